#!/bin/sh
# README's first command, as a user runs it: contrib/quickstart.sh starts
# the stack, the printed curl lines answer, stop stops everything.
# Runs on a random port with its own run directory.
set -u
SRC=$(cd "$(dirname "$0")/../.." && pwd)
RUN=$(mktemp -d /tmp/ocss-qs-XXXXXX)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
DEMO=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
export OCSS_RUN_DIR=$RUN PROXY_PORT=$PORT OCSS_DEMO_PORT=$DEMO
unset UPSTREAM_URL OPENCLAW_TOKEN
pass=0; fail=0
check() {	# description command...
	if "$@"; then pass=$((pass + 1)); echo "ok   $desc"
	else fail=$((fail + 1)); echo "FAIL $desc"; fi
}
cleanup() { "$SRC/contrib/quickstart.sh" stop >/dev/null 2>&1; rm -rf "$RUN"; }
trap cleanup EXIT

desc="quickstart starts the stack"
check sh -c "'$SRC/contrib/quickstart.sh' > '$RUN/out.txt' 2>&1"
cat "$RUN/out.txt"
TOKEN=$(sed -n 's/^OPENCLAW_TOKEN=//p' "$RUN/ocss.env")
desc="it prints the URL and the token"
check grep -q "http://127.0.0.1:$PORT" "$RUN/out.txt"
check grep -qF -e "$TOKEN" "$RUN/out.txt"
desc="token is 43 base64url characters, env file mode 600"
check sh -c "printf '%s\\n' '$TOKEN' | grep -Eq '^[A-Za-z0-9_-]{43}$' && [ \$(stat -c %a '$RUN/ocss.env') = 600 ]"
desc="health answers"
check sh -c "curl -fsS http://127.0.0.1:$PORT/health | grep -q '\"status\":\"ok\"'"
desc="models through the gateway with the token"
check sh -c "curl -fsS -H 'Authorization: Bearer $TOKEN' http://127.0.0.1:$PORT/v1/models | grep -q mock-model"
desc="chat completion through the gateway"
check sh -c "curl -fsS -H 'Authorization: Bearer $TOKEN' -H 'Content-Type: application/json' -d '{\"messages\":[{\"role\":\"user\",\"content\":\"hello\"}]}' http://127.0.0.1:$PORT/v1/chat/completions | grep -q 'mock reply: hello'"
desc="no token: 401"
check sh -c "[ \$(curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:$PORT/v1/models) = 401 ]"
desc="a second start restarts cleanly and keeps the token"
check sh -c "'$SRC/contrib/quickstart.sh' >/dev/null 2>&1 && grep -qF -e '$TOKEN' '$RUN/ocss.env' && curl -fsS http://127.0.0.1:$PORT/health >/dev/null"
desc="stop stops every process"
check sh -c "'$SRC/contrib/quickstart.sh' stop >/dev/null && ! curl -s http://127.0.0.1:$PORT/health >/dev/null && [ -z \"\$(ls '$RUN'/*.pid 2>/dev/null)\" ]"
echo "quickstart: $pass passed, $fail failed"
[ $fail -eq 0 ]
