#!/bin/sh
# run_fuzzer.sh FUZZER SEED_CORPUS SECONDS: a bounded libFuzzer run over a scratch copy of the
# seed corpus. Any crash, leak or sanitizer report fails the test and leaves the reproducer
# in the scratch directory, whose path is printed.
set -eu
fuzzer=$1 seeds=$2 secs=$3
work=$(mktemp -d "${TMPDIR:-/tmp}/sp-fuzz.XXXXXX")
cp -r "$seeds"/. "$work/corpus"/ 2>/dev/null || { mkdir -p "$work/corpus"; cp -r "$seeds"/. "$work/corpus"/; }
cd "$work"
if "$fuzzer" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 corpus; then
	rm -rf "$work"
	exit 0
fi
echo "fuzzer failed; reproducer and corpus kept in $work" >&2
exit 1
