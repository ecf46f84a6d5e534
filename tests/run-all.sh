#!/bin/sh
# The complete ocss test suite.  Installs what it needs (Debian 12, root),
# builds twice (gcc; clang with ASan+UBSan), and runs: unit tests, the
# integration tests against real lighttpd + spawn-fcgi + workers, both
# again in the sanitizer build, unit and integration tests under valgrind,
# every fuzz harness for a bounded time, and make distcheck.
# Ends with "N passed, N failed"; exits 1 if anything failed.
#
#   tests/run-all.sh                 everything
#   OCSS_SKIP_DEPS=1 tests/run-all.sh   do not call install-deps
#   OCSS_FUZZ_SECONDS=N              time per fuzz harness (default 20)
set -u

SRC=$(cd "$(dirname "$0")/.." && pwd)
ART=$SRC/tests/artefacts
FUZZ_SECONDS=${OCSS_FUZZ_SECONDS:-20}
JOBS=$(nproc 2>/dev/null || echo 2)
PASSED=0
FAILED=0
FAILED_STEPS=

mkdir -p "$ART"
cd "$SRC" || exit 1
export PYTHONDONTWRITEBYTECODE=1

# run NAME COMMAND...: output to $ART/NAME.log; counts come from lines
# "label: N passed, N failed"; a step that fails without one counts 1.
run() {
	name=$1; shift
	log=$ART/$name.log
	start=$(date +%s)
	"$@" > "$log" 2>&1
	rc=$?
	p=0; f=0
	counts=$(grep -E '^[A-Za-z0-9_-]+: [0-9]+ passed, [0-9]+ failed' "$log" |
	    sed -E 's/^[^:]+: ([0-9]+) passed, ([0-9]+) failed.*/\1 \2/')
	if [ -n "$counts" ]; then
		p=$(echo "$counts" | awk '{s+=$1} END {print s}')
		f=$(echo "$counts" | awk '{s+=$2} END {print s}')
	fi
	if [ $rc -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1
	fi
	PASSED=$((PASSED + p))
	FAILED=$((FAILED + f))
	if [ "$f" -ne 0 ]; then
		FAILED_STEPS="$FAILED_STEPS $name"
		echo "== $name: FAILED (exit $rc, $p passed, $f failed, $(( $(date +%s) - start ))s); last lines of $log:"
		tail -n 60 "$log" | sed 's/^/   | /'
	else
		echo "== $name: ok ($p passed, $(( $(date +%s) - start ))s)"
	fi
	return $rc
}

build() {	# dir configure-args...
	dir=$1; shift
	mkdir -p "$dir" && cd "$dir" &&
	{ [ -f Makefile ] || "$SRC/configure" "$@"; } &&
	make -j"$JOBS" && make -j"$JOBS" tests/unit/unit-tests
}

if [ "${OCSS_SKIP_DEPS:-0}" != 1 ]; then
	run deps "$SRC/contrib/install-deps.sh" --test || exit 1
fi
# An in-tree ./configure makes every VPATH build below refuse to run.
if [ -f "$SRC/config.status" ]; then
	echo "== the source tree was configured in place; make distclean there"
	make -C "$SRC" -s distclean >/dev/null 2>&1 || rm -f "$SRC/config.status"
fi
run autoreconf autoreconf -fi || exit 1

# gcc build
if run build-gcc build "$SRC/build/default" CC=gcc; then
	run unit-gcc "$SRC/build/default/tests/unit/unit-tests"
	OCSS_BUILD=$SRC/build/default run integration-gcc \
	    python3 "$SRC/tests/integration/run.py"
fi

# clang + ASan/UBSan build
if run build-asan build "$SRC/build/asan" CC=clang --enable-sanitizers; then
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	    run unit-asan "$SRC/build/asan/tests/unit/unit-tests"
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	OCSS_BUILD=$SRC/build/asan OCSS_TEST_LABEL=integration-asan \
	    run integration-asan python3 "$SRC/tests/integration/run.py"
fi

# valgrind over the gcc build: unit tests, then the gateway tests with a
# single worker process under valgrind.
if [ -x "$SRC/build/default/tests/unit/unit-tests" ]; then
	OCSS_PCRE2_NO_JIT=1 run valgrind-unit valgrind --quiet --error-exitcode=99 --leak-check=full \
	    --errors-for-leak-kinds=definite --trace-children=no \
	    "$SRC/build/default/tests/unit/unit-tests"
	OCSS_PCRE2_NO_JIT=1 OCSS_BUILD=$SRC/build/default OCSS_VALGRIND=1 OCSS_TEST_LABEL=valgrind \
	    run integration-valgrind python3 "$SRC/tests/integration/run.py" \
	    test_gateway.Gateway test_webhooks.Webhooks
fi

# Fuzz harnesses: each runs for a bounded time from its seed corpus.
if [ -x "$SRC/tests/fuzz/run.sh" ]; then
	run fuzz "$SRC/tests/fuzz/run.sh" "$FUZZ_SECONDS"
fi

# Extra suites modules add: tests/suites/*.sh, each printing its counts.
for s in "$SRC"/tests/suites/*.sh; do
	[ -f "$s" ] || continue
	run "$(basename "$s" .sh)" sh "$s"
done

if [ -f "$SRC/build/default/Makefile" ]; then
	run distcheck sh -c "make -C \"$SRC/build/default\" -j$JOBS distcheck && echo \"distcheck: 1 passed, 0 failed\""
fi

[ -n "$FAILED_STEPS" ] && echo "failed steps:$FAILED_STEPS (logs in $ART)"
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
