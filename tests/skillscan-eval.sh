#!/bin/sh
# Evaluate the skill scanner: recall on the malicious technique samples in
# tests/skills/malicious (lines marked MAL), silence on the benign samples
# in tests/skills/benign, and false positives on the real sources of
# popular npm packages fetched with `npm pack` at pinned versions.
#
#   tests/skillscan-eval.sh            (OCSS=path/to/ocss to choose the binary)
#
# Prints recall and false-positive numbers and ends with
# "skillscan-eval: N passed, N failed".  Exits 1 if any check failed.
set -u
SRC=$(cd "$(dirname "$0")/.." && pwd)
OCSS=${OCSS:-}
if [ -z "$OCSS" ]; then
	for c in "${OCSS_BUILD:-}/ocss" "$SRC/build/default/ocss" "$SRC/ocss"; do
		[ -x "$c" ] && { OCSS=$c; break; }
	done
fi
if [ -z "$OCSS" ] || [ ! -x "$OCSS" ]; then
	echo "skillscan-eval: no ocss binary (build first or set OCSS=)"
	echo "skillscan-eval: 0 passed, 1 failed"
	exit 1
fi
RULES=$SRC/conf/scanner-rules.json
ALLOW=$SRC/conf/egress-allowlist.conf
TMP=$(mktemp -d "${TMPDIR:-/tmp}/skillscan-eval.XXXXXX")
trap 'rm -rf "$TMP"' EXIT INT TERM

# Negatives: package@version.  Pinned so that the numbers are reproducible.
PACKAGES="lodash@4.18.1 chalk@5.6.2 commander@14.0.3 uuid@14.0.3
dayjs@1.11.23 minimist@1.2.8 yargs@18.2.0 express@5.3.0 axios@1.21.1
moment@2.31.0"

mkdir -p "$TMP/mal" "$TMP/ben" "$TMP/neg" "$TMP/pkgs"
for d in "$SRC"/tests/skills/malicious/*/; do
	n=$(basename "$d")
	"$OCSS" scan --format json --rules "$RULES" --allowlist "$ALLOW" "$d" \
	    > "$TMP/mal/$n.json"
	[ $? -le 1 ] || echo "scan of $d failed"
done
for d in "$SRC"/tests/skills/benign/*/; do
	n=$(basename "$d")
	"$OCSS" scan --format json --rules "$RULES" --allowlist "$ALLOW" "$d" \
	    > "$TMP/ben/$n.json"
	[ $? -le 1 ] || echo "scan of $d failed"
done
npm_ok=1
for p in $PACKAGES; do
	n=${p%@*}
	if ! (cd "$TMP/pkgs" && npm pack --silent "$p" > "$TMP/pkgs/$n.name" 2>"$TMP/pkgs/$n.err"); then
		echo "npm pack $p failed: $(tail -n 2 "$TMP/pkgs/$n.err")"
		npm_ok=0
		continue
	fi
	mkdir -p "$TMP/pkgs/$n"
	tar -xzf "$TMP/pkgs/$(cat "$TMP/pkgs/$n.name")" -C "$TMP/pkgs/$n"
	"$OCSS" scan --format json --rules "$RULES" --allowlist "$ALLOW" \
	    "$TMP/pkgs/$n/package" > "$TMP/neg/$n.json"
	[ $? -le 1 ] || echo "scan of $p failed"
done

python3 - "$SRC" "$TMP" "$PACKAGES" "$npm_ok" <<'PY'
import json, os, re, sys

src, tmp, packages, npm_ok = sys.argv[1], sys.argv[2], sys.argv[3].split(), sys.argv[4] == '1'
passed = failed = 0

def check(ok, what):
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
        print('FAIL:', what)

def load(path):
    try:
        return json.load(open(path))['skills'][0]
    except Exception as e:
        return None

# Recall: a marked line counts when some finding (not scanner-internal)
# points at it.
tot = hit = 0
misses = []
mroot = os.path.join(src, 'tests/skills/malicious')
for name in sorted(os.listdir(mroot)):
    root = os.path.join(mroot, name)
    if not os.path.isdir(root):
        continue
    rep = load(os.path.join(tmp, 'mal', name + '.json'))
    check(rep is not None, 'scan of malicious/%s' % name)
    if rep is None:
        continue
    flagged = {(f['file'], f['line']) for f in rep['findings'] if f['category'] != 'scanner'}
    sev = {f['severity'] for f in rep['findings']}
    check(rep['trust_score'] <= 20 and ('critical' in sev or 'high' in sev),
          'malicious/%s: trust score %d, expected <= 20 with a high/critical finding' % (name, rep['trust_score']))
    for dp, _, files in os.walk(root):
        for fn in sorted(files):
            p = os.path.join(dp, fn)
            rel = os.path.relpath(p, root)
            for i, line in enumerate(open(p, encoding='utf-8'), 1):
                mal = line.rstrip().endswith('MAL') or (
                    fn == 'package.json' and re.search(r'"(pre|post)?install"\s*:', line))
                if not mal:
                    continue
                tot += 1
                if (rel, i) in flagged:
                    hit += 1
                else:
                    misses.append('%s/%s:%d: %s' % (name, rel, i, line.strip()))
recall = 100.0 * hit / tot if tot else 0.0
print('recall: %d of %d malicious lines flagged (%.1f%%)' % (hit, tot, recall))
for m in misses:
    print('  missed:', m)
check(recall >= 95.0, 'recall %.1f%% < 95%%' % recall)

# Benign samples: nothing but low filesystem notes.
broot = os.path.join(src, 'tests/skills/benign')
for name in sorted(os.listdir(broot)):
    if not os.path.isdir(os.path.join(broot, name)):
        continue
    rep = load(os.path.join(tmp, 'ben', name + '.json'))
    bad = [] if rep is None else [f for f in rep['findings']
           if f['category'] in ('dangerous_api', 'process', 'obfuscation', 'network', 'scanner')]
    for f in bad:
        print('  benign/%s: %s %s:%d %s' % (name, f['rule'], f['file'], f['line'], f['snippet']))
    check(rep is not None and not bad, 'benign/%s has %d findings' % (name, len(bad)))

# Negatives.  What a package really does is not a false positive; each
# entry says why it is expected.
expected = {
    ('commander', 'proc.child-process-import'): 'runs executable subcommands',
    ('commander', 'proc.child-process'): 'runs executable subcommands (spawn)',
    ('express', 'dyn.require-nonliteral'): 'loads the view engine named by the app',
    ('lodash', 'dyn.function-constructor'): '_.template compiles templates with Function',
    ('moment', 'dyn.require-nonliteral'): 'loads locale files by name',
}
files = lines = fp = 0
fp_files = set()
per_pkg = {}
if not npm_ok:
    check(False, 'npm pack of the negative packages (registry reachable?)')
for spec in packages:
    name = spec.rsplit('@', 1)[0]
    rep = load(os.path.join(tmp, 'neg', name + '.json'))
    if rep is None:
        check(False, 'scan of %s' % spec)
        continue
    root = os.path.join(tmp, 'pkgs', name, 'package')
    nf = 0
    for f in rep['files']:
        if f['status'] == 'manifest':
            continue
        nf += 1
        try:
            lines += sum(1 for _ in open(os.path.join(root, f['path']), 'rb'))
        except OSError:
            pass
    files += nf
    unexpected = [f for f in rep['findings']
                  if f['category'] in ('dangerous_api', 'process', 'obfuscation')
                  and (name, f['rule']) not in expected]
    exp = [f for f in rep['findings'] if (name, f['rule']) in expected]
    other = {}
    for f in rep['findings']:
        if f['category'] not in ('dangerous_api', 'process', 'obfuscation'):
            other[f['rule']] = other.get(f['rule'], 0) + 1
    for f in unexpected:
        print('  false positive %s: %s %s:%d %s' % (spec, f['rule'], f['file'], f['line'], f['snippet'][:100]))
        fp_files.add((name, f['file']))
    fp += len(unexpected)
    print('%-18s %4d files, %3d expected, %d false positive(s); other: %s' % (
        spec, nf, len(exp), len(unexpected),
        ', '.join('%s %d' % kv for kv in sorted(other.items())) or '-'))
    check(not unexpected, '%s: %d unexpected dangerous_api/process/obfuscation findings' % (spec, len(unexpected)))
rate = 100.0 * len(fp_files) / files if files else 100.0
print('false positives: %d findings in %d of %d files (%.2f%%), %d lines of JavaScript/TypeScript' % (
    fp, len(fp_files), files, rate, lines))
check(files > 0 and rate <= 2.0, 'false-positive rate %.2f%% > 2%%' % rate)
print('skillscan-eval: %d passed, %d failed' % (passed, failed))
sys.exit(1 if failed else 0)
PY
