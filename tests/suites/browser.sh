#!/bin/sh
# The approval page (www/approve/) in Debian's chromium, driven by
# playwright-core, against the real stack (lighttpd + ocss-fcgi + mock
# upstream on random loopback ports, as the integration tests start it).
# Uses the build in OCSS_BUILD (default build/default); builds nothing.
# Screenshots: tests/artefacts/browser/.  Ends with "browser: N passed, N failed".
set -u
SRC=$(cd "$(dirname "$0")/../.." && pwd)
DIR=$SRC/tests/browser
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
OCSS_BUILD=${OCSS_BUILD:-$SRC/build/default}
export OCSS_BUILD CHROMIUM

fail() {
	echo "browser: $*" >&2
	echo "browser: 0 passed, 1 failed"
	exit 1
}

for f in ocss-fcgi tests/mock/mock-upstream; do
	[ -x "$OCSS_BUILD/$f" ] ||
	    fail "$OCSS_BUILD/$f is missing: build first (tests/run-all.sh, or configure + make + make tests/mock/mock-upstream in $OCSS_BUILD)"
done
for c in node npm python3 lighttpd spawn-fcgi; do
	command -v "$c" >/dev/null 2>&1 || fail "$c is missing (contrib/install-deps.sh --test)"
done
if [ ! -x "$CHROMIUM" ]; then
	if [ "$(id -u)" = 0 ] && [ "$CHROMIUM" = /usr/bin/chromium ]; then
		echo "browser: installing chromium"
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null ||
		    { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null; } ||
		    fail "apt-get install chromium failed"
	fi
	[ -x "$CHROMIUM" ] || fail "$CHROMIUM is missing (apt-get install chromium)"
fi

# Node dependencies: exactly the locked ones, installed again only when the
# lock file changed since the last install.
if [ ! -f "$DIR/node_modules/playwright-core/package.json" ] ||
   [ ! -f "$DIR/node_modules/.package-lock.json" ] ||
   [ "$DIR/package-lock.json" -nt "$DIR/node_modules/.package-lock.json" ]; then
	(cd "$DIR" && npm ci --no-audit --no-fund --loglevel=error >/dev/null) ||
	    fail "npm ci in tests/browser failed"
fi

cd "$DIR" || fail "no $DIR"
# Well under two minutes; a hung browser or stack must not hang the suite.
timeout -k 10 110 node approve.test.js "$@"
rc=$?
if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
	fail "timed out after 110 s"
fi
exit $rc
