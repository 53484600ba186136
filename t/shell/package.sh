#!/usr/bin/env bash
# t/shell/package.sh: the Debian package (debian/) built, checked and tried on
# this machine's own Apache: dpkg-buildpackage -us -uc -b from a copy of the
# tree, lintian without errors, dpkg -i, `a2enmod autorest` enabling mod_dbd
# with it, `apache2ctl configtest` and -M with it loaded, then dpkg --purge
# leaving nothing behind. As root only (it installs into /etc/apache2 and
# /usr/lib/apache2; the machine's Apache is left as it was found); otherwise
# skipped. Scratch directory in $1. TAP output.
set -u
dir=${1:?usage: t/shell/package.sh SCRATCH_DIR}
dir=$(cd "$dir" && pwd) || exit 1
top=$(cd "$(dirname "$0")/../.." && pwd)
pkg=libapache2-mod-autorest
n=0 failed=0
ok() { n=$((n + 1)); if [ "$1" -eq 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; failed=$((failed + 1)); fi; }
done_tap() { echo "1..$n"; [ $failed -eq 0 ]; exit $?; }
tail_tap() { [ -f "$1" ] && tail -n "${2:-30}" "$1" | sed 's/^/# /'; }
installed() { dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'ok installed'; }

if [ "$(id -u)" -ne 0 ]; then
    echo "1..0 # SKIP the package is installed into this machine's Apache: root only"
    exit 0
fi
if ! git -C "$top" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    echo "1..0 # SKIP not a git checkout: the build copies the tree as git has it"
    exit 0
fi
if installed || [ -e /etc/apache2/mods-available/autorest.load ]; then
    echo "1..0 # SKIP mod_autorest is already installed here; not touching it"
    exit 0
fi
dbd_was_enabled=0
[ -e /etc/apache2/mods-enabled/dbd.load ] && dbd_was_enabled=1
leave_as_found() {
    installed && dpkg --purge "$pkg" >/dev/null 2>&1
    [ $dbd_was_enabled -eq 1 ] || a2dismod -q -f dbd >/dev/null 2>&1
    return 0
}
trap leave_as_found EXIT

# The tree as git has it (tracked and new files, not what a build left), so
# that dh_auto_clean and the build never touch the caller's tree.
src=$dir/src/mod-autorest
rm -rf "$dir/src" && mkdir -p "$src"
(cd "$top" && git ls-files -z --cached --others --exclude-standard |
    while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
    tar --null -T - -cf -) | tar -x -C "$src"
ok $? "the tree copied for the build ($(find "$src" -type f | wc -l) files)"

start=$SECONDS
(cd "$src" && DEB_BUILD_OPTIONS=nocheck dpkg-buildpackage -us -uc -b) >"$dir/build.log" 2>&1
rc=$?
ok $rc "dpkg-buildpackage -us -uc -b ($((SECONDS - start)) s; log: $dir/build.log)"
[ $rc -eq 0 ] || { tail_tap "$dir/build.log"; done_tap; }
deb=$(ls "$dir"/src/${pkg}_*.deb 2>/dev/null | head -n 1)
changes=$(ls "$dir"/src/mod-autorest_*.changes 2>/dev/null | head -n 1)

start=$SECONDS
lintian --fail-on error --tag-display-limit 0 "$changes" >"$dir/lintian.log" 2>&1
rc=$?
ok $rc "lintian reports no error ($((SECONDS - start)) s; $(grep -c '^E:' "$dir/lintian.log") E, $(grep -c '^W:' "$dir/lintian.log") W: $dir/lintian.log)"
sed 's/^/# /' "$dir/lintian.log"

dpkg -i "$deb" >"$dir/install.log" 2>&1
ok $? "dpkg -i $(basename "$deb")"
[ -f /usr/lib/apache2/modules/mod_autorest.so ] && [ -f /etc/apache2/mods-available/autorest.load ] \
    && [ -f /etc/apache2/mods-available/autorest.conf ]
ok $? "it installs mod_autorest.so, autorest.load and autorest.conf"
active=$(grep -v '^[[:space:]]*#' /etc/apache2/mods-available/autorest.conf | grep -c '[^[:space:]]')
ok "$([ "$active" -eq 0 ] && echo 0 || echo 1)" "autorest.conf configures nothing by itself ($active active lines)"
grep -q '^# Depends: dbd' /etc/apache2/mods-available/autorest.load
ok $? "autorest.load declares its dependency on mod_dbd"

[ -e /etc/apache2/mods-enabled/autorest.load ] && [ -e /etc/apache2/mods-enabled/dbd.load ]
ok $? "installing it enables autorest, and dbd with it"

# Enabled from nothing: a2enmod autorest brings mod_dbd.
a2dismod -q -f autorest >/dev/null 2>&1
[ $dbd_was_enabled -eq 1 ] || a2dismod -q -f dbd >/dev/null 2>&1
a2enmod autorest >"$dir/a2enmod.log" 2>&1
[ -e /etc/apache2/mods-enabled/autorest.load ] && [ -e /etc/apache2/mods-enabled/dbd.load ]
ok $? "a2enmod autorest enables autorest and dbd"
apache2ctl configtest >"$dir/configtest.log" 2>&1
rc=$?
ok $rc "apache2ctl configtest with it enabled"
[ $rc -eq 0 ] || tail_tap "$dir/configtest.log"
apache2ctl -M 2>/dev/null | grep -q 'autorest_module'
ok $? "apache2ctl -M lists autorest_module (the installed .so loads)"

dpkg --purge "$pkg" >"$dir/purge.log" 2>&1
ok $? "dpkg --purge $pkg"
left=$(find /etc/apache2 /usr/lib/apache2 /usr/share/doc -name '*autorest*' 2>/dev/null)
ok "$([ -z "$left" ] && echo 0 || echo 1)" "purge leaves nothing behind${left:+: $left}"
done_tap
