#!/usr/bin/env bash
# t/shell/browse.sh: the browsable HTML pages of the demo (scripts/demo: /api
# read-only, /rw open for writes) in headless Chromium, driven by npm's
# puppeteer-core (t/browse: package-lock.json, browse.mjs): the index, a
# collection and its next page, the filter form, a row page, an error page,
# and on /rw an insert, an edit and a delete through the forms, each checked
# against the JSON API of the same demo; no CSP violation, page error or
# script on any page. Starts the demo in a scratch directory ($1) and stops it
# again; as root (the demo's servers then run as nobody, Chromium without its
# sandbox) or as anyone. Everything, npm's cache and HOME included, is written
# below $1; the source tree is only read. TAP output; a screenshot of each page
# visited is left in $1 as PNG (their paths are printed as TAP comments).
# shellcheck source=t/shell/chromium_demo.sh
. "$(dirname "$0")/chromium_demo.sh"
command -v node >/dev/null && command -v npm >/dev/null
ok $? "node and npm are installed"
[ $failed -eq 0 ] || done_tap

# puppeteer-core from the lock file, in a copy of t/browse; it downloads no browser.
export HOME=$dir npm_config_cache=$dir/npm-cache npm_config_update_notifier=false \
    PUPPETEER_SKIP_DOWNLOAD=1
rm -rf "$dir/browse" && mkdir -p "$dir/browse"
cp "$top/t/browse/package.json" "$top/t/browse/package-lock.json" "$top/t/browse/browse.mjs" "$dir/browse/"
start=$SECONDS
(cd "$dir/browse" && npm ci --no-audit --no-fund) >"$dir/npm.log" 2>&1
rc=$?
ok $rc "npm ci of t/browse ($((SECONDS - start)) s; log: $dir/npm.log)"
[ $rc -eq 0 ] || { tail_tap "$dir/npm.log"; done_tap; }

start=$SECONDS
AR_DEMO_DIR=$demo "$top/scripts/demo" >"$dir/demo.log" 2>&1
rc=$?
ok $rc "scripts/demo starts ($((SECONDS - start)) s; log: $dir/demo.log)"
[ $rc -eq 0 ] || { tail_tap "$dir/demo.log"; done_tap; }
# shellcheck disable=SC1091
. "$demo/ports.env" 2>/dev/null || done_tap

# browse.mjs prints "ok - ..." and "not ok - ..." lines; they are numbered here.
start=$SECONDS
(cd "$dir/browse" && AR_BROWSE_BASE=http://127.0.0.1:$HTTPD_PORT AR_BROWSE_DIR=$dir \
    AR_BROWSE_CHROMIUM=$browser timeout 120 node browse.mjs) >"$dir/browse.out" 2>"$dir/browse.err"
rc=$?
while IFS= read -r line; do
    case $line in
        "ok - "*) ok 0 "${line#ok - }" ;;
        "not ok - "*) ok 1 "${line#not ok - }" ;;
        *) echo "$line" ;;
    esac
done <"$dir/browse.out"
echo "# browse.mjs ran $((SECONDS - start)) s"
if [ $rc -ne 0 ] && [ $failed -eq 0 ]; then
    ok 1 "browse.mjs exited with $rc (stderr: $dir/browse.err)"
    tail_tap "$dir/browse.err"
fi
[ -s "$dir/browse.err" ] && [ $failed -ne 0 ] && tail_tap "$dir/browse.err"
done_tap
