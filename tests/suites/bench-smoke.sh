#!/bin/sh
# The benchmarks of tests/bench still run and still measure what they say:
# each one once, with tiny counts and durations, over the gcc build.  Not a
# measurement (docs/BENCHMARKS.md holds those); a check that every setup
# starts, answers the same bytes, and lands in the report with a rate.
# Ends with "bench-smoke: N passed, N failed"; exits 1 on a failure.
set -u
SRC=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${OCSS_BUILD:-$SRC/build/default}
T=$(mktemp -d "${TMPDIR:-/tmp}/ocss-bench-smoke.XXXXXX")
trap 'rm -rf "$T"' EXIT INT TERM
pass=0; fail=0
ok() { pass=$((pass + 1)); echo "ok   $1"; }
bad() {	# description log
	fail=$((fail + 1)); echo "FAIL $1"
	[ -f "$2" ] && tail -n 15 "$2" | sed 's/^/     | /'
}

# A report row "| NAME | REQS [..] |" with a rate above 0 and no errors.
row_ok() {	# report name
	awk -F'|' -v n="$2" '
	    index($2, n) == 2 { split($3, r, " "); if (r[1] + 0 > 0 &&
	        $3 !~ /non-2xx/) good = 1 }
	    END { exit !good }' "$1"
}

# --- gateway: every setup of bench-gateway.sh, one short round ------------
make -s -C "$BUILD" tests/bench/fcgi-floor >"$T/make.log" 2>&1 ||
    bad "fcgi-floor builds" "$T/make.log"
if OCSS_BUILD=$BUILD BENCH_DURATION=1 BENCH_ROUNDS=1 BENCH_POOLS=2x2 \
    BENCH_RSS_REQUESTS=200 BENCH_RSS_MAX_SECONDS=5 BENCH_PERF_SECONDS=0 \
    sh "$SRC/tests/bench/bench-gateway.sh" >"$T/gw.md" 2>"$T/gw.err"; then
	ok "bench-gateway.sh runs every setup"
	for s in "(a) upstream direct" "(b) lighttpd mod_proxy" \
	    "(c) lighttpd + ocss-fcgi 2 workers x 2 threads" \
	    "(d) floor: lighttpd + fcgi-floor, libcurl" \
	    "(d) floor: lighttpd + fcgi-floor, plain socket" \
	    "(d) floor: lighttpd + fcgi-floor, no upstream"; do
		if row_ok "$T/gw.md" "$s"; then ok "gateway report: $s"
		else bad "gateway report: $s" "$T/gw.md"; fi
	done
	if grep -q '^| 2x2 | [0-9]' "$T/gw.md"; then ok "gateway report: RSS row"
	else bad "gateway report: RSS row" "$T/gw.md"; fi
else
	bad "bench-gateway.sh runs every setup" "$T/gw.err"
fi

# --- sanitizer throughput: every stage and cut of bench-sanitize.sh --------
mkdir -p "$T/corpora"
for t in "How do I bake sourdough bread at home?" \
    "Summarise this email: the meeting moved to 3 pm, room 4B." \
    "| item | price |\\n|---|---|\\n| tea | 2.50 |"; do
	printf '{"text": "%s", "label": "benign"}\n' "$t"
done >"$T/corpora/tiny.jsonl"
if make -s -C "$BUILD" tests/bench/bench-sanitize >"$T/make.log" 2>&1 &&
    sh "$SRC/tests/bench/bench-sanitize.sh" "$BUILD" "$T/corpora" 1 \
    >"$T/san.out" 2>&1; then
	# 2 rule files x (4 stages on the corpus + 3 on prose) + 3 cuts
	n=$(awk '/ MB\/s/ { for (i = 1; i < NF; i++) if ($(i + 1) == "MB/s" &&
	    $i + 0 > 0) { c++; break } } END { print c + 0 }' "$T/san.out")
	if [ "$n" -eq 17 ]; then ok "bench-sanitize.sh: 17 rates"
	else bad "bench-sanitize.sh: 17 rates (saw $n)" "$T/san.out"; fi
else
	bad "bench-sanitize.sh runs" "$T/san.out"
fi

# --- the Python benches over the real stack ---------------------------------
pybench() {	# name args...
	n=$1; shift
	if OCSS_BUILD=$BUILD python3 "$SRC/tests/bench/$n" "$@" >"$T/$n.out" \
	    2>&1 && grep -q '^| ' "$T/$n.out"; then
		ok "$n $*"
	else
		bad "$n $*" "$T/$n.out"
	fi
}
pybench bench-pipeline.py 50
pybench bench-governance.py 20 20 2
pybench bench-webhook.py 20 2

echo "bench-smoke: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
