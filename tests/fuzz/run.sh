#!/bin/sh
# Build every libFuzzer harness (clang, ASan+UBSan, build/fuzz) and run each
# for SECONDS (default 20) from its seeds in tests/fuzz/seeds/NAME.  The
# working corpus and any crash input go to tests/artefacts/fuzz/.
# Prints "fuzz: N passed, N failed", one test per harness.
set -u
SRC=$(cd "$(dirname "$0")/../.." && pwd)
SECS=${1:-20}
B=$SRC/build/fuzz
OUT=$SRC/tests/artefacts/fuzz
mkdir -p "$B" "$OUT"
(cd "$B" && { [ -f Makefile ] || "$SRC/configure" -q CC=clang --enable-fuzzing; } &&
    make -s -j"$(nproc)") || { echo "fuzz: 0 passed, 1 failed"; exit 1; }
pass=0; fail=0
for h in "$B"/tests/fuzz/fuzz_*; do
	[ -x "$h" ] || continue
	name=$(basename "$h"); name=${name#fuzz_}
	corpus=$OUT/corpus-$name
	mkdir -p "$corpus"
	[ -d "$SRC/tests/fuzz/seeds/$name" ] && cp -n "$SRC/tests/fuzz/seeds/$name"/* "$corpus"/ 2>/dev/null
	dict=
	[ -f "$SRC/tests/fuzz/$name.dict" ] && dict="-dict=$SRC/tests/fuzz/$name.dict"
	echo "-- fuzz_$name for ${SECS}s"
	if ASAN_OPTIONS=detect_leaks=1 "$h" -max_total_time="$SECS" -timeout=10 \
	    -rss_limit_mb=2048 -artifact_prefix="$OUT/$name-" -print_final_stats=1 \
	    $dict "$corpus" 2>&1 | tail -n 25; then
		pass=$((pass + 1))
	else
		echo "fuzz_$name FAILED; reproducer in $OUT/$name-*"
		fail=$((fail + 1))
	fi
done
echo "fuzz: $pass passed, $fail failed"
[ $fail -eq 0 ]
