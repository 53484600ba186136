#!/bin/sh
# fuzz/run.sh: build the libFuzzer targets against the pure core and run each
# for FUZZ_SECONDS (default 60) from its seed corpus in fuzz/corpus/<target>/.
#
#   fuzz/run.sh                      build, then fuzz every target
#   fuzz/run.sh fuzz_json_value      only that target
#   FUZZ_SECONDS=0 fuzz/run.sh       build, run the seeds once (a smoke test)
#   FUZZ_CFLAGS=... fuzz/run.sh      extra compiler flags
#
# Needs clang and libclang-rt-14-dev. Binaries go to fuzz/<target>_fuzzer,
# new corpus entries to fuzz/corpus-work/<target>/ and crash/leak inputs to
# fuzz/corpus-work/artifacts/ (all git-ignored); logs to fuzz/corpus-work/.
# Exits non-zero if any target crashed, leaked or drew a sanitizer report.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
cd "$top"

seconds=${FUZZ_SECONDS:-60}
CC=${CC:-clang}
targets=${*:-fuzz_query_parse fuzz_json_value fuzz_cursor fuzz_body}
work=fuzz/corpus-work

command -v "$CC" >/dev/null || { echo "run.sh: $CC not found" >&2; exit 2; }

cflags="-g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all"
cflags="$cflags -Wall -Wextra -Wno-unused-parameter ${FUZZ_CFLAGS:-}"
# shellcheck disable=SC2046
incs="$(apr-1-config --cflags --cppflags --includes) $(apu-1-config --includes)"
incs="$incs $(pkg-config --cflags jansson libpq) -I include"
# apr-util too: cursor.c signs with apr_sha1 and writes apr_base64.
libs="$(pkg-config --libs jansson libpq) $(apu-1-config --link-ld --libs) $(apr-1-config --link-ld --libs)"
# The pure core: every top-level source but the httpd glue.
core=$(ls ./*.c | grep -v '/mod_autorest')

mkdir -p "$work/artifacts"
status=0
for t in $targets; do
    name=${t#fuzz_}
    bin="fuzz/${name}_fuzzer"
    echo "== build $bin"
    # shellcheck disable=SC2086
    $CC $cflags $incs "fuzz/$t.c" $core $libs -o "$bin"
done

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

for t in $targets; do
    name=${t#fuzz_}
    bin="fuzz/${name}_fuzzer"
    log="$work/$t.log"
    mkdir -p "$work/$t"
    if [ "$seconds" = 0 ]; then
        run="-runs=0"
        echo "== $t: seeds only"
    else
        run="-max_total_time=$seconds"
        echo "== $t: ${seconds}s"
    fi
    rc=0
    "$bin" $run -detect_leaks=1 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$work/artifacts/$t-" "$work/$t" "fuzz/corpus/$t" \
        >"$log" 2>&1 || rc=$?
    if [ "$rc" -ne 0 ] \
        || grep -Eq 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:|==[0-9]+== ?ABORTING|deadly signal' "$log"; then
        echo "!! $t failed (exit $rc); log: $log" >&2
        grep -E -A25 'ERROR: |runtime error:|deadly signal|^fuzz_' "$log" | head -60 >&2 || true
        ls "$work/artifacts/$t-"* 2>/dev/null | sed 's/^/   input: /' >&2 || true
        status=1
    else
        grep -E '^(stat::number_of_executed_units|stat::peak_rss_mb|#[0-9]+ *DONE)' "$log" \
            | tr '\n' ' ' | sed 's/$/\n/'
        echo "   $t: ok, corpus $(ls "$work/$t" | wc -l) entries"
    fi
done
exit $status
