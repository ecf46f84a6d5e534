#!/bin/sh
# ocss telegram set-webhook / delete-webhook / info against mock-platform
# (the Telegram Bot API's wire format, tests/mock/mock-platform.c) on a
# free loopback port: what reaches the Bot API (url, secret, allowed
# updates), what the CLI prints and exits with, and that the bot token
# never appears in its output.
# Ends with "telegram-cli: N passed, N failed"; exits 1 on a failure.
set -u
SRC=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${OCSS_BUILD:-$SRC/build/default}
OCSS=${OCSS:-$BUILD/ocss}
MOCK=$BUILD/tests/mock/mock-platform
T=$(mktemp -d "${TMPDIR:-/tmp}/ocss-telegram-cli.XXXXXX")
MOCK_PID=
cleanup() {
	[ -n "$MOCK_PID" ] && kill "$MOCK_PID" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
pass=0; fail=0
check() {	# description command...
	d=$1; shift
	if "$@" >>"$T/log" 2>&1; then pass=$((pass + 1)); echo "ok   $d"
	else fail=$((fail + 1)); echo "FAIL $d"; tail -n 5 "$T/log" | sed 's/^/     | /'; fi
}

TOKEN='123456789:AAH-mock_TokenForTheCliSuite0123456'
WRONG='123456789:AAH-not_the_token_the_mock_knows99'
SECRET=$(printf %s "$TOKEN" | sha256sum | cut -d' ' -f1)
URL=https://example.invalid/webhook/telegram

# tg NAME ENVFILE ARGS...: ocss telegram ARGS with only ENVFILE for
# configuration; output in $T/NAME.out and .err (all of it also in
# $T/all), the exit status in $T/NAME.rc.
tg() {
	name=$1 envfile=$2; shift 2
	env -i PATH="$PATH" ASAN_OPTIONS="${ASAN_OPTIONS:-}" \
	    UBSAN_OPTIONS="${UBSAN_OPTIONS:-}" \
	    "$OCSS" telegram "$@" --env-file "$envfile" \
	    >"$T/$name.out" 2>"$T/$name.err"
	echo $? >"$T/$name.rc"
	cat "$T/$name.out" "$T/$name.err" >>"$T/all"
}
rc() { test "$(cat "$T/$1.rc")" -eq "$2"; }
has() { grep -q -e "$2" "$T/$1.out" "$T/$1.err"; }
# mock GET|POST PATH [BODY]: the mock's answer on stdout
mock() {
	python3 - "$BASE" "$@" <<'EOF'
import sys, urllib.request
base, method, path = sys.argv[1:4]
data = sys.argv[4].encode() if len(sys.argv) > 4 else None
o = urllib.request.build_opener(urllib.request.ProxyHandler({}))
req = urllib.request.Request(base + path, data=data, method=method)
sys.stdout.write(o.open(req, timeout=10).read().decode())
EOF
}
# call API COND: the last recorded call to Bot API method API makes the
# Python expression COND true (r: that call, rs: all of them).
call() {
	mock GET "/_mock/requests?api_method=$1" >"$T/calls.json" || return 1
	python3 - "$T/calls.json" "$2" "$SECRET" "$URL" <<'EOF'
import json, sys
rs = json.load(open(sys.argv[1]))
r = rs[-1] if rs else None
ok = r is not None and eval(sys.argv[2], {"r": r, "rs": rs,
    "SECRET": sys.argv[3], "URL": sys.argv[4]})
if not ok:
    print("last call:", json.dumps(r))
sys.exit(0 if ok else 1)
EOF
}
ncalls() { mock GET /_mock/requests | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))'; }

check "ocss is built ($OCSS)" test -x "$OCSS"
check "mock-platform is built ($MOCK)" test -x "$MOCK"
"$MOCK" --port 0 --port-file "$T/port" --telegram-token "$TOKEN" --quiet \
    >"$T/mock.out" 2>"$T/mock.err" &
MOCK_PID=$!
i=0
while [ ! -s "$T/port" ] && [ $i -lt 100 ] && kill -0 "$MOCK_PID" 2>/dev/null; do
	sleep 0.1; i=$((i + 1))
done
BASE=http://127.0.0.1:$(cat "$T/port" 2>/dev/null)
check "mock-platform answers /_mock/health" sh -c "test -s '$T/port'"
[ -s "$T/port" ] && check "health is {\"ok\":true}" test "$(mock GET /_mock/health)" = '{"ok":true}'

mkdir -p "$T/state"
cat >"$T/env" <<EOF
OPENCLAW_TOKEN=suite-client-token-0123456789abcdef
GOVERNANCE_ENABLED=false
OCSS_STATE_DIR=$T/state
OCSS_CONF_DIR=$T/state
TELEGRAM_BOT_TOKEN=$TOKEN
TELEGRAM_API_BASE=$BASE
EOF
sed "s|^TELEGRAM_BOT_TOKEN=.*|TELEGRAM_BOT_TOKEN=$WRONG|" "$T/env" >"$T/env.wrong"
cp "$T/env" "$T/env.secret"
echo "TELEGRAM_WEBHOOK_SECRET=configured_Secret-0123456789" >>"$T/env.secret"
grep -v '^TELEGRAM_BOT_TOKEN=' "$T/env" >"$T/env.notoken"
grep -v '^OPENCLAW_TOKEN=' "$T/env" >"$T/env.noclient"
sed "s|^TELEGRAM_API_BASE=.*|TELEGRAM_API_BASE=http://127.0.0.1:9|" "$T/env" >"$T/env.down"

# set-webhook with the default secret
tg set "$T/env" set-webhook "$URL"
check "set-webhook exits 0" rc set 0
check "set-webhook prints Telegram's description" has set '^Webhook was set$'
check "set-webhook says the secret is the default" has set 'default: hex SHA-256'
check "setWebhook reached the mock with the right token" call setWebhook 'r["status"] == 200 and r["token_ok"] and r["method"] == "POST"'
check "its path has the token redacted" call setWebhook 'r["path"] == "/bot<redacted>/setWebhook"'
check "it is JSON" call setWebhook 'r["content_type"].startswith("application/json") and isinstance(r["body"], dict)'
check "url is the one given" call setWebhook 'r["body"]["url"] == URL'
check "secret_token is the SHA-256 of the bot token" call setWebhook 'r["body"]["secret_token"] == SECRET'
check "allowed_updates are the four the relay reads" call setWebhook 'r["body"]["allowed_updates"] == ["message", "edited_message", "channel_post", "edited_channel_post"]'
check "drop_pending_updates is false by default" call setWebhook 'r["body"]["drop_pending_updates"] is False'
W=$(mock GET /_mock/webhook | python3 -c 'import json,sys; w=json.load(sys.stdin); print(w["url"], w["secret_token"])')
check "the mock holds the webhook and its secret" test "$W" = "$URL $SECRET"

# info
tg info "$T/env" info
check "info exits 0" rc info 0
check "info shows the url" has info "^url  *$URL\$"
check "info shows the pending count" has info '^pending updates  *0$'
check "info shows the allowed updates" has info '^allowed updates  *message, edited_message, channel_post, edited_channel_post$'
check "info says there is no last error" has info '^last error  *none$'
mock POST /_mock/webhook '{"pending_update_count":7,"last_error_message":"Wrong response from the webhook: 401 Unauthorized","last_error_date":1700000000}' >/dev/null
tg info2 "$T/env" info
check "info shows Telegram's last error with its date" has info2 '^last error  *2023-11-14 22:13:20 UTC: Wrong response from the webhook: 401 Unauthorized$'
check "info shows 7 pending updates" has info2 '^pending updates  *7$'

# the secret: --secret, then TELEGRAM_WEBHOOK_SECRET
tg sec "$T/env" set-webhook "$URL" --secret "given_Secret-abcdefghij"
check "set-webhook --secret exits 0" rc sec 0
check "--secret overrides the default" call setWebhook 'r["body"]["secret_token"] == "given_Secret-abcdefghij"'
check "--secret unlike the gateway's draws a warning" has sec 'warning: --secret is not the secret the gateway checks'
check "the secret source is named, not the secret" has sec 'from --secret'
tg cfgsec "$T/env.secret" set-webhook "$URL"
check "TELEGRAM_WEBHOOK_SECRET is registered when set" call setWebhook 'r["body"]["secret_token"] == "configured_Secret-0123456789"'
check "... without a warning" sh -c "! grep -q warning '$T/cfgsec.err'"
tg same "$T/env.secret" set-webhook "$URL" --secret configured_Secret-0123456789
check "--secret equal to the gateway's: no warning" sh -c "! grep -q warning '$T/same.err'"
tg drop "$T/env" set-webhook "$URL" --drop-pending-updates
check "--drop-pending-updates is sent" call setWebhook 'r["body"]["drop_pending_updates"] is True'
check "... and said" has drop 'pending updates  dropped'
tg path "$T/env" set-webhook https://example.invalid/hook
check "a URL not ending in /webhook/telegram draws a note" has path 'note: the gateway takes'

# URLs the CLI refuses (exit 2, nothing sent) and the one it lets through
n0=$(ncalls)
tg plain "$T/env" set-webhook http://example.com/webhook/telegram
check "http:// to another host: exit 2" rc plain 2
check "... saying https:// is needed" has plain 'must be https://'
tg plain2 "$T/env" set-webhook http://127.0.0.1.example.com/webhook/telegram
check "http:// to a name that merely starts 127.0.0.1: exit 2" rc plain2 2
tg plain3 "$T/env" set-webhook "http://127.0.0.1@example.com/webhook/telegram"
check "http:// with user info 127.0.0.1 to another host: exit 2" rc plain3 2
tg ftp "$T/env" set-webhook ftp://example.com/webhook/telegram
check "ftp://: exit 2" rc ftp 2
tg short "$T/env" set-webhook "$URL" --secret short
check "a --secret under 16 characters: exit 2" rc short 2
tg badsec "$T/env" set-webhook "$URL" --secret 'has spaces in it, see'
check "a --secret with other characters: exit 2" rc badsec 2
check "nothing was sent for the refused commands" test "$(ncalls)" -eq "$n0"
tg loop "$T/env" set-webhook http://127.0.0.1:8443/webhook/telegram
check "http:// to loopback passes the CLI; the Bot API refuses it (exit 1)" rc loop 1
check "... and Telegram's description is printed" has loop 'An HTTPS URL must be provided for webhook'
check "... the URL was sent" call setWebhook 'r["body"]["url"] == "http://127.0.0.1:8443/webhook/telegram" and r["status"] == 400'

# API and network errors
tg wrong "$T/env.wrong" set-webhook "$URL"
check "a wrong bot token: exit 1" rc wrong 1
check "... with Telegram's description" has wrong 'setWebhook failed: Unauthorized (HTTP 401)'
check "... and the mock saw a bad token" call setWebhook 'r["status"] == 401 and not r["token_ok"]'
mock POST /_mock/fail '{"count":1,"status":429,"retry_after":5}' >/dev/null
tg busy "$T/env" info
check "429 from the Bot API: exit 1" rc busy 1
check "... with the retry delay" has busy 'Too Many Requests: retry after 5 (HTTP 429; retry after 5 s)'
tg down "$T/env.down" info
check "the Bot API unreachable: exit 1" rc down 1
check "... the URL shown has the token redacted" has down 'http://127.0.0.1:9/bot<redacted>/getWebhookInfo'

# configuration errors
tg notoken "$T/env.notoken" info
check "TELEGRAM_BOT_TOKEN unset: exit 2" rc notoken 2
check "... saying so" has notoken 'TELEGRAM_BOT_TOKEN is not set'
tg noclient "$T/env.noclient" info
check "the gateway's configuration invalid: exit 2" rc noclient 2
check "... with the configuration error" has noclient 'configuration: OPENCLAW_TOKEN is not set'

# delete-webhook
tg del "$T/env" delete-webhook --drop-pending-updates
check "delete-webhook exits 0" rc del 0
check "delete-webhook prints Telegram's description" has del '^Webhook was deleted$'
check "deleteWebhook sent drop_pending_updates" call deleteWebhook 'r["status"] == 200 and r["body"]["drop_pending_updates"] is True'
tg info3 "$T/env" info
check "info after delete: no url" has info3 '^url  *(none'
tg del2 "$T/env" delete-webhook
check "delete-webhook again: Telegram says already deleted" has del2 '^Webhook is already deleted$'

# usage
tg nourl "$T/env" set-webhook
check "set-webhook without URL: exit 2" rc nourl 2
tg infosec "$T/env" info --secret abcdefghijklmnopq
check "--secret on info: exit 2" rc infosec 2
tg infodrop "$T/env" info --drop-pending-updates
check "--drop-pending-updates on info: exit 2" rc infodrop 2
tg verb "$T/env" frobnicate
check "unknown command: exit 2" rc verb 2
for v in set-webhook delete-webhook info; do
	tg "help-$v" "$T/env" "$v" --help
	check "$v --help exits 0" rc "help-$v" 0
done
check "set-webhook --help tells http:// is for loopback only" has help-set-webhook 'http:// is accepted only to a loopback host'
check "telegram --help lists the three commands" sh -c "'$OCSS' telegram --help | grep -q delete-webhook"

# secrets never printed
check "the bot token never appears in the CLI's output" sh -c "! grep -F -q -e '$TOKEN' -e '${TOKEN#*:}' -e '$WRONG' -e '${WRONG#*:}' '$T/all'"
check "nor the default secret" sh -c "! grep -F -q '$SECRET' '$T/all'"
check "nor the --secret or the configured secret" sh -c "! grep -F -q -e given_Secret-abcdefghij -e configured_Secret-0123456789 '$T/all'"
mock GET /_mock/requests >"$T/records.json"
check "the mock recorded calls" test -s "$T/records.json"
check "the mock's records have no bot token" sh -c "! grep -F -q -e '${TOKEN#*:}' -e '${WRONG#*:}' '$T/records.json'"

# the mock stops on SIGTERM
kill "$MOCK_PID"
wait "$MOCK_PID"
check "mock-platform exits 0 on SIGTERM" test $? -eq 0
MOCK_PID=

echo "telegram-cli: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
