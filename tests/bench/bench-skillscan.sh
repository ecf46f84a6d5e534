#!/bin/sh
# Scan throughput on large real JavaScript against the bare tree-sitter
# parse of the same files (tests/bench/bench-skillscan.c).  Fetches the
# inputs with `npm pack` at pinned versions into a temporary directory.
#
#   tests/bench/bench-skillscan.sh [ROUNDS]     (BENCH=path/to/bench-skillscan)
set -eu
SRC=$(cd "$(dirname "$0")/../.." && pwd)
ROUNDS=${1:-5}
BENCH=${BENCH:-}
if [ -z "$BENCH" ]; then
	for c in "${OCSS_BUILD:-}/tests/bench/bench-skillscan" \
	    "$SRC/build/default/tests/bench/bench-skillscan"; do
		[ -x "$c" ] && { BENCH=$c; break; }
	done
fi
[ -n "$BENCH" ] || { echo "bench-skillscan.sh: build bench-skillscan first (make)" >&2; exit 2; }
TMP=$(mktemp -d "${TMPDIR:-/tmp}/skillscan-bench.XXXXXX")
trap 'rm -rf "$TMP"' EXIT INT TERM
cd "$TMP"
for p in typescript@5.6.3 lodash@4.18.1 moment@2.31.0 axios@1.21.1 \
    express@5.3.0 yargs@18.2.0; do
	t=$(npm pack --silent "$p")
	mkdir -p "${p%@*}" && tar -xzf "$t" -C "${p%@*}"
done
set -- typescript/package/lib/typescript.js typescript/package/lib/tsc.js \
    lodash/package/lodash.js moment/package/min/moment-with-locales.js \
    axios/package/dist/axios.js express/package/lib/*.js \
    yargs/package/build/lib/*.js
"$BENCH" "$SRC/conf/scanner-rules.json" "$SRC/conf/egress-allowlist.conf" \
    -n "$ROUNDS" "$@"
