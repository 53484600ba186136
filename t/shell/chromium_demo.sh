# t/shell/chromium_demo.sh: sourced by docs.sh and browse.sh, the two checks
# of the demo in headless Chromium. Sets dir (the scratch directory, $1 of
# the caller), top, demo; defines TAP's ok and done_tap; stops the demo on
# exit; finds Chromium ($browser) or ends the TAP stream saying so.
set -u
dir=${1:?usage: $0 SCRATCH_DIR}
dir=$(cd "$dir" && pwd) || exit 1
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
n=0 failed=0
ok() { n=$((n + 1)); if [ "$1" -eq 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; failed=$((failed + 1)); fi; }
done_tap() { echo "1..$n"; [ $failed -eq 0 ]; exit $?; }

demo=$dir/demo
stop_demo() { AR_DEMO_DIR=$demo "$top/scripts/demo" stop >/dev/null 2>&1; }
trap stop_demo EXIT

browser=$(command -v chromium || command -v chromium-browser || true)
ok "$([ -n "$browser" ] && echo 0 || echo 1)" "headless Chromium is installed"
[ -n "$browser" ] || done_tap
