#!/bin/sh
# Install what ocss needs to build, run and test on Debian 12 (as root).
# Only missing packages are installed; a second run costs a dpkg query.
#   contrib/install-deps.sh          build + run (web server, libraries)
#   contrib/install-deps.sh --test   also what the test suite uses
set -eu

BUILD="autoconf automake libtool pkg-config make gcc ca-certificates
 libfcgi-dev spawn-fcgi libcurl4-openssl-dev libssl-dev libpcre2-dev
 libjson-c-dev libsqlite3-dev libtree-sitter-dev libcunit1-dev
 libmicrohttpd-dev libunistring-dev lighttpd sqlite3 curl"
TEST="clang libclang-rt-14-dev valgrind python3 wrk procps apache2 caddy chromium"

want=$BUILD
[ "${1:-}" = "--test" ] && want="$BUILD $TEST"

missing=
for p in $want; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' ||
		missing="$missing $p"
done
# Node.js may come from elsewhere than Debian (with npm inside): ask for
# Debian's packages only when the commands are absent.
command -v node >/dev/null 2>&1 || missing="$missing nodejs"
command -v npm >/dev/null 2>&1 || missing="$missing npm"
if [ -z "$missing" ]; then
	echo "install-deps: all packages present"
	exit 0
fi
if [ "$(id -u)" != 0 ]; then
	echo "install-deps: missing:$missing -- run as root (or: sudo $0 $*)" >&2
	exit 1
fi
echo "install-deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing
# The packaged services are not used: ocss starts its own instances.
for s in lighttpd apache2; do
	if command -v systemctl >/dev/null 2>&1 && systemctl is-active -q "$s" 2>/dev/null; then
		systemctl stop "$s" || true
		systemctl disable "$s" 2>/dev/null || true
	fi
done
