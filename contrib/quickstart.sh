#!/bin/sh
# Build ocss and run the whole stack on this machine:
#   lighttpd on 127.0.0.1:$PROXY_PORT (8080)
#   -> ocss-fcgi workers (spawn-fcgi, unix socket)
#   -> $UPSTREAM_URL, or the demo OpenAI-compatible upstream on :18790
# State (token, SQLite, audit log, sockets, logs) lives in ./run.
#
#   contrib/quickstart.sh [start]   install, build, (re)start
#   contrib/quickstart.sh stop      stop everything it started
#   contrib/quickstart.sh status    what is running
set -eu

SRC=$(cd "$(dirname "$0")/.." && pwd)
RUN=${OCSS_RUN_DIR:-$SRC/run}
BUILD=$SRC/build/stack
PORT=${PROXY_PORT:-8080}
DEMO_PORT=${OCSS_DEMO_PORT:-18790}
WORKERS=${OCSS_WORKERS:-2}
THREADS=${OCSS_THREADS:-16}

say() { printf 'quickstart: %s\n' "$*"; }
die() { printf 'quickstart: %s\n' "$*" >&2; exit 1; }

stop_pid() {	# name pidfile
	[ -f "$2" ] || return 0
	pid=$(cat "$2")
	if kill -0 "$pid" 2>/dev/null; then
		kill "$pid"
		i=0
		while kill -0 "$pid" 2>/dev/null && [ $i -lt 100 ]; do
			sleep 0.1; i=$((i + 1))
		done
		kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
		say "stopped $1 ($pid)"
	fi
	rm -f "$2"
}

stop() {
	stop_pid lighttpd "$RUN/lighttpd.pid"
	stop_pid ocss-fcgi "$RUN/ocss-fcgi.pid"
	stop_pid demo-upstream "$RUN/demo-upstream.pid"
}

status() {
	for n in lighttpd ocss-fcgi demo-upstream; do
		if [ -f "$RUN/$n.pid" ] && kill -0 "$(cat "$RUN/$n.pid")" 2>/dev/null; then
			echo "$n: running (pid $(cat "$RUN/$n.pid"))"
		else
			echo "$n: stopped"
		fi
	done
}

build() {
	"$SRC/contrib/install-deps.sh"
	cd "$SRC"
	[ -x configure ] || { say "autoreconf -fi"; autoreconf -fi >/dev/null; }
	mkdir -p "$BUILD"
	cd "$BUILD"
	[ -f Makefile ] || { say "configure"; ../../configure -q; }
	say "make"
	make -s -j"$(nproc)" >/dev/null
	cd "$SRC"
}

envval() {	# KEY: from the environment, else from the env file
	eval "v=\${$1:-}"
	if [ -z "$v" ] && [ -f "$RUN/ocss.env" ]; then
		v=$(sed -n "s/^$1=//p" "$RUN/ocss.env" | tail -n 1)
	fi
	printf '%s' "$v"
}

start() {
	build
	stop
	mkdir -p "$RUN/state"
	chmod 700 "$RUN" "$RUN/state"
	if [ ! -f "$RUN/ocss.env" ]; then
		umask 077
		{
			echo "# ocss settings for the quick start (see ocss-fcgi(8))."
			echo "OPENCLAW_TOKEN=$("$BUILD/ocss" token)"
			echo "GOVERNANCE_SECRET=$("$BUILD/ocss" token)"
			echo "# UPSTREAM_URL=http://127.0.0.1:18789"
		} > "$RUN/ocss.env"
		umask 022
		say "new token written to $RUN/ocss.env"
	fi
	# Env files from before governance existed get a secret too.
	if ! grep -q '^GOVERNANCE_SECRET=' "$RUN/ocss.env"; then
		echo "GOVERNANCE_SECRET=$("$BUILD/ocss" token)" >> "$RUN/ocss.env"
	fi
	token=$(envval OPENCLAW_TOKEN)
	upstream=$(envval UPSTREAM_URL)
	if [ -z "$upstream" ]; then
		setsid "$BUILD/tests/mock/mock-upstream" --bind 127.0.0.1 \
		    --port "$DEMO_PORT" --quiet >>"$RUN/demo-upstream.log" 2>&1 &
		echo $! > "$RUN/demo-upstream.pid"
		upstream=http://127.0.0.1:$DEMO_PORT
		say "demo upstream on $upstream (set UPSTREAM_URL for OpenClaw)"
	fi
	export OCSS_ENV_FILE="$RUN/ocss.env" OCSS_CONF_DIR="$SRC/conf" \
	    OCSS_STATE_DIR="$RUN/state" UPSTREAM_URL="$upstream"
	"$BUILD/ocss-fcgi" --check >/dev/null || die "configuration refused (above)"
	spawn-fcgi -s "$RUN/ocss.sock" -M 0600 -P "$RUN/ocss-fcgi.pid" -- \
	    "$BUILD/ocss-fcgi" --workers "$WORKERS" --threads "$THREADS" \
	    >/dev/null 2>>"$RUN/ocss-fcgi.log" || die "spawn-fcgi failed: $RUN/ocss-fcgi.log"
	max=$(sed -n 's/^OCSS_MAX_BODY=//p' "$RUN/ocss.env" | tail -n 1)
	sed -e "s|@PORT@|$PORT|" -e "s|@BIND@|127.0.0.1|" \
	    -e "s|@WWW_DIR@|$SRC/www|" -e "s|@RUN_DIR@|$RUN|g" \
	    -e "s|@SOCKET@|$RUN/ocss.sock|" -e "s|@MAX_KB@|$((11 * 1024))|" \
	    "$SRC/contrib/lighttpd/ocss.conf.in" > "$RUN/lighttpd.conf"
	[ -n "$max" ] && say "note: OCSS_MAX_BODY=$max; lighttpd allows 11 MiB"
	lighttpd -tt -f "$RUN/lighttpd.conf" >/dev/null || die "lighttpd config refused"
	lighttpd -f "$RUN/lighttpd.conf" || die "lighttpd failed: $RUN/lighttpd-error.log"
	i=0
	until curl -fsS "http://127.0.0.1:$PORT/health" >/dev/null 2>&1; do
		i=$((i + 1))
		[ $i -lt 100 ] || die "no answer on :$PORT; see $RUN/*.log"
		sleep 0.1
	done
	cat <<EOT

ocss is up.
  URL:    http://127.0.0.1:$PORT
  token:  $token   (in $RUN/ocss.env)
  audit:  $RUN/state/audit.jsonl

  curl http://127.0.0.1:$PORT/health
  curl -H "Authorization: Bearer $token" http://127.0.0.1:$PORT/v1/models
  curl -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \\
       -d '{"model":"m","messages":[{"role":"user","content":"hello"}]}' \\
       http://127.0.0.1:$PORT/v1/chat/completions

Stop it with: contrib/quickstart.sh stop
EOT
}

case "${1:-start}" in
start)	start ;;
stop)	stop ;;
status)	status ;;
*)	die "usage: $0 [start|stop|status]" ;;
esac
