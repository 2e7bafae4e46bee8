#!/usr/bin/env bash
# The whole test suite, as CI runs it: set up, then
#   build/        gcc, debugoptimized          every test
#   build-asan/   gcc, ASan + UBSan            every test
#   build-fuzz/   clang, libFuzzer + ASan/UBSan  a bounded fuzzing run of every target
# and a last line "tests: N passed, N failed, N skipped" over all three.
set -uo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh || exit 1

status=0
run_build() { # dir, meson setup args..., then -- meson test args...
	local dir=$1
	shift
	local setup=() testargs=()
	while [ $# -gt 0 ] && [ "$1" != -- ]; do setup+=("$1"); shift; done
	[ $# -gt 0 ] && shift
	testargs=("$@")
	echo "==== $dir"
	if [ ! -f "$dir/build.ninja" ]; then
		meson setup "$dir" "${setup[@]}" || { status=1; return; }
	fi
	ninja -C "$dir" || { status=1; return; }
	meson test -C "$dir" --print-errorlogs "${testargs[@]}" || status=1
}

run_build build -- --no-suite fuzz
run_build build-asan -Db_sanitize=address,undefined -Db_lundef=false -Dbenchmarks=disabled \
	-- --no-suite fuzz --no-suite bench --timeout-multiplier 3
CC=clang CXX=clang++ run_build build-fuzz -Dfuzzers=enabled -Dbenchmarks=disabled \
	-Db_sanitize=address,undefined -Db_lundef=false -- --suite fuzz

# One summary line over every build, from meson's machine-readable logs.
python3 - build build-asan build-fuzz <<'PY' || status=1
import json, os, sys
counts = {"passed": 0, "failed": 0, "skipped": 0}
for d in sys.argv[1:]:
    log = os.path.join(d, "meson-logs", "testlog.json")
    if not os.path.exists(log):
        print(f"{d}: no test log (build failed?)")
        counts["failed"] += 1
        continue
    for line in open(log):
        r = json.loads(line)["result"]
        key = {"OK": "passed", "SKIP": "skipped", "EXPECTEDFAIL": "passed"}.get(r, "failed")
        counts[key] += 1
print()
print(f"tests: {counts['passed']} passed, {counts['failed']} failed, {counts['skipped']} skipped")
sys.exit(1 if counts["failed"] else 0)
PY
exit $status
