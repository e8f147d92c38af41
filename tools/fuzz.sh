#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Builds the libFuzzer targets of tests/fuzz with clang in a folder of their own, then runs
# each for SECONDS: the endpoint's packet parser and verifier, the bulletin request parser and
# the config loader. New inputs are kept in BUILD/corpus between runs; a crash leaves its input
# in BUILD/crash-* and fails the run. Exit 77 (skipped) where clang or libFuzzer is missing.
# Usage: bash tools/fuzz.sh [SECONDS_PER_TARGET] [BUILD_DIR]
#   ctest runs 7 s per target; before a release run an hour each: bash tools/fuzz.sh 3600
set -u
cd "$(dirname "$0")/.."
SECS=${1:-600}
BUILD=$(readlink -m "${2:-build-fuzz}")
TARGETS=(packet request config)

if ! command -v clang > /dev/null || [ ! -f "$(clang -print-file-name=libclang_rt.fuzzer-x86_64.a)" ]; then
	echo "fuzz: clang or libFuzzer (libclang-rt-14-dev) is not installed; skipped"
	exit 77
fi
mkdir -p "$BUILD"
if ! { CC=clang cmake -S . -B "$BUILD" -DCX_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo &&
       cmake --build "$BUILD" -j2 --target "${TARGETS[@]/#/fuzz_}"; } > "$BUILD/build.log" 2>&1; then
	tail -30 "$BUILD/build.log"
	echo "fuzz: the clang build failed (log in $BUILD/build.log)"
	exit 1
fi

# Seeds: the shipped configs, the sample bulletins as requests, packets from tests/fuzz/seeds.
mkdir -p "$BUILD/seeds/request" "$BUILD/seeds/config"
for f in tests/data/bulletins/*.txt; do
	jq -Rs '{text: ., targets: ["杨和镇", "440608102"], repeat: 1, client_id: "seed"}' < "$f" \
		> "$BUILD/seeds/request/$(basename "$f" .txt).json"
done
cp etc/headend.cfg etc/endpoint.cfg "$BUILD/seeds/config/"

export LSAN_OPTIONS="suppressions=$PWD/tests/fuzz/lsan.supp:print_suppressions=0"
failed=0
for t in "${TARGETS[@]}"; do
	seeds="$BUILD/seeds/$t"
	[ -d "tests/fuzz/seeds/$t" ] && seeds="tests/fuzz/seeds/$t"
	mkdir -p "$BUILD/corpus/$t"
	"$BUILD/fuzz/fuzz_$t" -max_total_time="$SECS" -timeout=10 -rss_limit_mb=2560 \
		-print_final_stats=1 -artifact_prefix="$BUILD/crash-$t-" "$BUILD/corpus/$t" "$seeds" \
		> "$BUILD/fuzz-$t.log" 2>&1
	rc=$?
	runs=$(sed -nE 's/^stat::number_of_executed_units: *([0-9]+)/\1/p' "$BUILD/fuzz-$t.log")
	if [ "$rc" = 0 ]; then
		echo "fuzz_$t: ${runs:-?} inputs in $SECS s, no crash, no leak ($(ls "$BUILD/corpus/$t" | wc -l) in the corpus)"
	else
		echo "fuzz_$t: FAILED after ${runs:-?} inputs (exit $rc); input in $BUILD/crash-$t-*"
		grep -A25 -m1 'ERROR\|==ERROR' "$BUILD/fuzz-$t.log"
		failed=1
	fi
done
exit $failed
