#!/bin/sh
# Quarantine and pins through the real binary, in a temporary directory:
# scan --quarantine -> list -> export -> override (refused without --ack /
# --user, then given) -> pins add -> verify -> modify -> verify fails and
# drops the override -> rescan after the fix -> released.
# Ends with "quarantine: N passed, N failed"; exits 1 on a failure.
set -u
SRC=$(cd "$(dirname "$0")/../.." && pwd)
OCSS=${OCSS:-${OCSS_BUILD:-$SRC/build/default}/ocss}
T=$(mktemp -d "${TMPDIR:-/tmp}/ocss-quarantine.XXXXXX")
trap 'rm -rf "$T"' EXIT INT TERM
pass=0; fail=0
check() {	# description command...
	d=$1; shift
	if "$@" >>"$T/log" 2>&1; then pass=$((pass + 1)); echo "ok   $d"
	else fail=$((fail + 1)); echo "FAIL $d"; tail -n 5 "$T/log" | sed 's/^/     | /'; fi
}
# status NAME: the skill's status as ocss quarantine show --format json says
status() {
	"$OCSS" quarantine show "$1" --format json |
	    python3 -c 'import json,sys; print(json.load(sys.stdin)["status"])'
}
listed() {	# NAME: is NAME in the exported list?
	python3 -c 'import json,sys; sys.exit(0 if sys.argv[2] in json.load(open(sys.argv[1])) else 1)' "$EXPORT" "$1"
}

mkdir -p "$T/state" "$T/conf" "$T/skills"
cp -R "$SRC/tests/skills/malicious/eval-payload" "$T/skills/mal"
cp -R "$SRC/tests/skills/benign/weather" "$T/skills/ben"
export OCSS_STATE_DIR="$T/state" OCSS_CONF_DIR="$T/conf"
unset AUDIT_LOG_PATH
EXPORT=$T/conf/quarantine-list.json
AUDIT=$T/state/audit.jsonl
SCAN="--rules $SRC/conf/scanner-rules.json --allowlist $SRC/conf/egress-allowlist.conf"

check "the binary is built ($OCSS)" test -x "$OCSS"
"$OCSS" scan $SCAN --quarantine "$T/skills/mal" "$T/skills/ben" >"$T/scan.out" 2>"$T/scan.err"
check "scan --quarantine exits 1 (findings)" test $? -eq 1
check "quarantine list shows the malicious skill" sh -c "'$OCSS' quarantine list | grep -q '^formatter .*quarantined'"
check "list --format json is an array of objects" sh -c "'$OCSS' quarantine list --format json | python3 -c 'import json,sys; a=json.load(sys.stdin); assert isinstance(a,list) and a[0][\"name\"]==\"formatter\" and a[0][\"blocked\"]'"
check "the benign skill (low findings only) is not on record" sh -c "! '$OCSS' quarantine show weather"
check "export file lists the malicious skill" listed formatter
check "export file does not list the benign skill" sh -c "! python3 -c 'import json,sys; sys.exit(0 if \"weather\" in json.load(open(\"$EXPORT\")) else 1)'"
check "export file is mode 644" test "$(stat -c %a "$EXPORT")" = 644
check "audit log has the quarantine decision" grep -q '"event":"skill_quarantine".*"skill":"formatter"' "$AUDIT"
check "check says blocked (exit 1)" sh -c "'$OCSS' quarantine check formatter; test \$? -eq 1"
check "--help works for quarantine and pins" sh -c "'$OCSS' quarantine --help | grep -q override && '$OCSS' pins --help | grep -q verify && '$OCSS' scan --help | grep -q -- --quarantine"

"$OCSS" quarantine override formatter --user alice >/dev/null 2>&1
check "override refused without --ack (exit 2)" test $? -eq 2
"$OCSS" quarantine override formatter --ack "I accept the risk" >/dev/null 2>&1
check "override refused without --user (exit 2)" test $? -eq 2
"$OCSS" quarantine override formatter --user alice --ack "   " >/dev/null 2>&1
check "override refused with a blank --ack" test $? -ne 0
check "still quarantined after the refusals" test "$(status formatter)" = quarantined
check "override with --user and --ack" "$OCSS" quarantine override formatter --user alice --ack "I accept the risk"
check "status is overridden" test "$(status formatter)" = overridden
check "export no longer lists it" sh -c "! python3 -c 'import json,sys; sys.exit(0 if \"formatter\" in json.load(open(\"$EXPORT\")) else 1)'"
check "audit has the override with user, ack and findings" python3 -c '
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
o = [e for e in ev if e.get("event") == "skill_override"]
assert o and o[-1]["user"] == "alice" and o[-1]["ack"] == "I accept the risk"
assert o[-1]["skill"] == "formatter" and len(o[-1]["findings"]) > 0
assert any(f["rule"] == "dyn.eval" for f in o[-1]["findings"])' "$AUDIT"
check "show lists the override's user" sh -c "'$OCSS' quarantine show formatter | grep -q 'by alice'"
check "a second scan of unchanged content keeps the override" sh -c "'$OCSS' scan $SCAN --quarantine '$T/skills/mal' >/dev/null 2>&1; test \"\$('$OCSS' quarantine show formatter --format json | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"status\"])')\" = overridden"

check "pins add" "$OCSS" pins add "$T/skills/mal" --user alice
check "pins add names it after SKILL.md" sh -c "'$OCSS' pins list | grep -q '^formatter '"
check "skill-pins.json has a SHA-256 per file" python3 -c '
import json, sys
p = json.load(open(sys.argv[1]))["formatter"]
assert set(p["files"]) == {"SKILL.md", "format.js"}, p
assert all(len(h) == 64 for h in p["files"].values()) and p["pinned_by"] == "alice"' "$T/conf/skill-pins.json"
check "pins verify passes (exit 0)" "$OCSS" pins verify
echo '// appended' >> "$T/skills/mal/format.js"
"$OCSS" pins verify >"$T/verify.out" 2>&1
check "pins verify fails after a change (exit 1)" test $? -eq 1
check "verify names the changed file" grep -q 'changed: format.js' "$T/verify.out"
check "the override is dropped (quarantined again)" test "$(status formatter)" = quarantined
check "export lists it again" listed formatter
check "audit has the pin failure" grep -q '"event":"skill_pin_failed".*"changed":\["format.js"\]' "$AUDIT"
"$OCSS" quarantine override formatter --user alice --ack "I accept the risk" >/dev/null 2>&1
check "override refused until rescanned (exit 1)" test $? -eq 1
"$OCSS" quarantine rescan formatter $SCAN >/dev/null 2>&1
check "rescan of the still malicious skill: exit 1, quarantined" sh -c "test $? -eq 1 && test \"\$('$OCSS' quarantine show formatter --format json | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"status\"])')\" = quarantined"
printf 'module.exports = (s) => String(s).trim();\n' > "$T/skills/mal/format.js"
check "rescan after removing the malicious code (exit 0)" "$OCSS" quarantine rescan formatter $SCAN
check "status is released" test "$(status formatter)" = released
check "export no longer lists it" sh -c "! python3 -c 'import json,sys; sys.exit(0 if \"formatter\" in json.load(open(\"$EXPORT\")) else 1)'"
check "a released skill's pin still fails until re-pinned" sh -c "'$OCSS' pins verify formatter; test \$? -eq 1"
check "re-pin, then verify passes" sh -c "'$OCSS' pins add '$T/skills/mal' && '$OCSS' pins verify"
"$OCSS" quarantine rescan formatter $SCAN >/dev/null 2>&1
check "rescan after re-pin: released" test "$(status formatter)" = released
check "unknown command: exit 2" sh -c "'$OCSS' quarantine frobnicate 2>/dev/null; test \$? -eq 2"

echo "quarantine: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
