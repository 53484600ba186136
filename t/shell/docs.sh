#!/usr/bin/env bash
# t/shell/docs.sh: the demo's Swagger UI (scripts/demo, /docs/: npm's
# swagger-ui-dist reading /api/openapi.json) in headless Chromium: the page
# renders, and every relation and function the index lists has its operation
# on it. Starts the demo in a scratch directory ($1) and stops it again; as
# root (the demo's servers then run as nobody, Chromium without its sandbox)
# or as anyone. TAP output; a screenshot of the page is left in $1/docs.png.
# shellcheck source=t/shell/chromium_demo.sh
. "$(dirname "$0")/chromium_demo.sh"

AR_DEMO_DIR=$demo "$top/scripts/demo" >"$dir/demo.log" 2>&1
ok $? "scripts/demo starts (log: $dir/demo.log)"
# shellcheck disable=SC1091
. "$demo/ports.env" 2>/dev/null || done_tap
base=http://127.0.0.1:$HTTPD_PORT

# What the page must show: the index's relations and functions, as paths.
index=$(curl -s "$base/api/")
mapfile -t want < <(node -e '
    const i = JSON.parse(require("fs").readFileSync(0, "utf8"));
    for (const r of i.relations) console.log(r.url.replace(/^\/api/, ""));
    for (const f of new Set((i.functions || []).map((f) => f.name))) console.log("/rpc/" + f);' \
    <<<"$index")
ok "$([ ${#want[@]} -ge 5 ] && echo 0 || echo 1)" "the demo's index lists ${#want[@]} relations and functions"

code=$(curl -s -o /dev/null -w '%{http_code}' "$base/docs/")
ok "$([ "$code" = 200 ] && echo 0 || echo 1)" "GET /docs/ is Swagger UI's page (200, got $code)"

# --virtual-time-budget lets the page's scripts fetch and render the document
# before the DOM is written out.
flags=(--headless=new --disable-gpu --disable-dev-shm-usage --no-first-run
       --user-data-dir="$dir/chromium" --virtual-time-budget=20000)
[ "$(id -u)" -eq 0 ] && flags+=(--no-sandbox)
HOME=$dir timeout 120 "$browser" "${flags[@]}" --dump-dom "$base/docs/" >"$dir/docs.html" 2>"$dir/chromium.log"
ok $? "Chromium loads $base/docs/ (log: $dir/chromium.log)"
HOME=$dir timeout 120 "$browser" "${flags[@]}" --window-size=1280,2400 \
    --screenshot="$dir/docs.png" "$base/docs/" >/dev/null 2>>"$dir/chromium.log"

grep -q 'mod_autorest API at /api' "$dir/docs.html"
ok $? "the page shows the document's title"
missing=()
for path in "${want[@]}"; do
    grep -qF "data-path=\"$path\"" "$dir/docs.html" || missing+=("$path")
done
ok "${#missing[@]}" "every relation and function of the index has its operation on the page${missing[*]:+ (missing: ${missing[*]})}"
shown=$(grep -o 'data-path="[^"]*"' "$dir/docs.html" | sed 's/^data-path="//; s/"$//' | sort -u | grep -vx '/')
listed=$(printf '%s\n' "${want[@]}" | sort -u)
[ "$shown" = "$listed" ]
ok $? "and nothing else: the page's operations are exactly the index's paths"
done_tap
