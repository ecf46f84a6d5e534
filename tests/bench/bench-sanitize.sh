#!/bin/sh
# Sanitizer throughput, per core, on realistic chat text.
#
#   tests/bench/bench-sanitize.sh [BUILD-DIR] [CORPORA-DIR] [MB]
#
# Runs tests/bench/bench-sanitize with both shipped rule files on
#   - the benign texts of the development corpora (CORPORA-DIR/*.jsonl,
#     default ../shared/corpora): 16 KiB slices, and one OpenAI chat body
#     per text;
#   - the built-in English prose;
# then the prompt rules cut down (no rule, the model alone, the regular
# expressions alone) on the bodies, to show where the time goes.
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
# Where the time goes: the prompt rules cut down (no rule: JSON walk and
# normaliser only; the n-gram model alone; the regular expressions alone),
# one chat body per corpus text.
python3 - "$top/conf/prompt-rules.json" "$tmp" <<'PY'
import json, sys
src, out = sys.argv[1], sys.argv[2]
d = json.load(open(src))
cuts = {
    "no-rule": [],
    "model-only": [r for r in d["rules"] if "model" in r],
    "regex-only": [r for r in d["rules"] if "model" not in r],
}
for name, rules in cuts.items():
    json.dump({"version": d["version"], "rules": rules},
              open(f"{out}/{name}.json", "w"))
PY
cp "$top"/conf/*.bin "$tmp"/
echo "== where the time goes: conf/prompt-rules.json cut down, one body per text"
for cut in no-rule model-only regex-only; do
	printf '%-11s ' "$cut:"
	BENCH_STAGE=bodies "$bench" "$tmp/$cut.json" "$tmp/all.jsonl" "$mb"
done
