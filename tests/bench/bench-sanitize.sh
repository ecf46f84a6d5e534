#!/bin/sh
# Sanitizer throughput, per core, on realistic chat text.
#
#   tests/bench/bench-sanitize.sh [BUILD-DIR] [CORPORA-DIR] [MB]
#
# Runs tests/bench/bench-sanitize with both shipped rule files on
#   - the benign texts of the development corpora (CORPORA-DIR/*.jsonl,
#     default ../shared/corpora): 16 KiB slices, and one OpenAI chat body
#     per text;
#   - the built-in English prose.
# Numbers are MB/s of this thread's CPU time (see docs/BENCHMARKS.md,
# "Sanitizer throughput").
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$top/build/default}
corpora=${2:-$top/../shared/corpora}
mb=${3:-100}
bench=$build/tests/bench/bench-sanitize
[ -x "$bench" ] || { echo "build $bench first (make -C $build tests/bench/bench-sanitize)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cat "$corpora"/*.jsonl > "$tmp/all.jsonl"
for rules in prompt-rules indirect-injection-rules; do
	echo "== conf/$rules.json, benign texts of $corpora/*.jsonl"
	"$bench" "$top/conf/$rules.json" "$tmp/all.jsonl" "$mb"
	echo "== conf/$rules.json, built-in English prose"
	"$bench" "$top/conf/$rules.json" - "$mb"
done
