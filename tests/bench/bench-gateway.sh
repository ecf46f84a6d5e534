#!/bin/sh
# Gateway throughput and latency, all on 127.0.0.1 in one run:
#
#   (a) wrk -> upstream                     a fast upstream: lighttpd serving
#                                           a static /v1/models
#   (b) wrk -> lighttpd mod_proxy -> (a)    what a user runs without ocss
#   (c) wrk -> lighttpd -> ocss-fcgi -> (a) the real stack: spawn-fcgi'd
#                                           ocss-fcgi behind lighttpd rendered
#                                           from contrib/lighttpd/ocss.conf.in,
#                                           once per pool size in BENCH_POOLS
#   (d) wrk -> lighttpd -> fcgi-floor -> (a) the floor under (c): the same
#                                           front and pool shape (the first
#                                           of BENCH_POOLS), forwarding with
#                                           nothing else -- with libcurl as
#                                           ocss does ("curl"), and over a
#                                           plain kept-alive socket with no
#                                           HTTP library ("socket"), and
#                                           with no upstream at all: the
#                                           worker answers the body itself
#                                           ("none", the FastCGI hop alone,
#                                           a bound no forwarder can beat)
#
# Every setup gets the same request (GET /v1/models with the Bearer token),
# the same bounded load (wrk -d, BENCH_CONNS connections), then one
# connection for the latency each hop adds.  With perf(1) at hand, one more
# run per setup counts the system calls and context switches each tier makes
# per request.  The ocss worker RSS is read from
# /proc before and after at least BENCH_RSS_REQUESTS further requests.  The
# report (markdown, docs/BENCHMARKS.md "Gateway throughput and latency") goes
# to stdout, progress to stderr.  Everything it starts is stopped on exit.
#
#   tests/bench/bench-gateway.sh
#
# Settings (environment; the defaults are what docs/BENCHMARKS.md records):
#   OCSS_BUILD             build to use (build/bench; configured there when
#                          missing, and make is run in it every time)
#   BENCH_DURATION         seconds per measured wrk run (10)
#   BENCH_ROUNDS           rounds of all runs; the median one is reported (3)
#   BENCH_CONNS            connections of the throughput runs (32)
#   BENCH_WRK_THREADS      wrk threads of the throughput runs (2)
#   BENCH_POOLS            ocss pools, WORKERSxTHREADS ("2x8 4x4")
#   BENCH_RSS_REQUESTS     requests between the RSS readings (100000)
#   BENCH_RSS_MAX_SECONDS  time bound of that loop (60)
#   BENCH_PERF_SECONDS     seconds of the run under perf stat (5; 0: none)
#   BENCH_FLOOR            0: leave out the (d) setups (1)
#   BENCH_KEEP             set: keep the temporary directory (configs, logs,
#                          raw wrk output)
set -eu

SRC=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${OCSS_BUILD:-$SRC/build/bench}
DURATION=${BENCH_DURATION:-10}
ROUNDS=${BENCH_ROUNDS:-3}
CONNS=${BENCH_CONNS:-32}
WRK_THREADS=${BENCH_WRK_THREADS:-2}
POOLS=${BENCH_POOLS:-2x8 4x4}
RSS_REQUESTS=${BENCH_RSS_REQUESTS:-100000}
RSS_MAX_SECONDS=${BENCH_RSS_MAX_SECONDS:-60}
PERF_SECONDS=${BENCH_PERF_SECONDS:-5}
FLOOR=${BENCH_FLOOR:-1}
WARMUP=2
TOKEN=bench-token-0123456789abcdef
GOV_SECRET=bench-governance-secret-0123456789abcdef
LUA=$SRC/tests/bench/bench-gateway.lua

say() { printf 'bench-gateway: %s\n' "$*" >&2; }
die() { printf 'bench-gateway: %s\n' "$*" >&2; exit 1; }

for t in wrk lighttpd spawn-fcgi curl ss awk pgrep; do
	command -v "$t" >/dev/null 2>&1 || die "$t is needed"
done
case $DURATION$ROUNDS$CONNS$WRK_THREADS$RSS_REQUESTS$RSS_MAX_SECONDS$PERF_SECONDS in
*[!0-9]*) die "BENCH_* numbers must be plain integers" ;;
esac
if [ "$ROUNDS" -lt 1 ] || [ "$DURATION" -lt 1 ]; then
	die "BENCH_ROUNDS, BENCH_DURATION: at least 1"
fi
for p in $POOLS; do
	case $p in
	[1-9]*x[1-9]*) ;;
	*) die "BENCH_POOLS: '$p' is not WORKERSxTHREADS" ;;
	esac
done

# --- build (like contrib/quickstart.sh, without installing packages) -------
# Configured once, brought up to date with make on every run, so the numbers
# are never those of a stale binary.
if [ ! -f "$BUILD/Makefile" ]; then
	say "configuring $BUILD"
	cd "$SRC"
	[ -x configure ] || autoreconf -fi >/dev/null
	[ ! -f "$SRC/config.status" ] ||
	    die "$SRC is configured in place, which rules out a build in" \
	    "$BUILD: 'make distclean' there, or set OCSS_BUILD to a build"
	mkdir -p "$BUILD"
	cd "$BUILD"
	"$SRC/configure" -q
fi
say "make in $BUILD"
make -s -C "$BUILD" -j"$(nproc)" >/dev/null || die "make in $BUILD failed"
cd "$SRC"

# The source the build came from: its conf/ goes with its binary.
TOP=$(cd "$(sed -n 's/^abs_top_srcdir = //p' "$BUILD/Makefile")" && pwd)

# --- processes, ports, clean-up --------------------------------------------
TMP=$(mktemp -d "${TMPDIR:-/tmp}/ocss-bench.XXXXXX")
PIDS=""		# pid files of everything started (lighttpd, ocss-fcgi)

stop_pidfile() {
	[ -s "$1" ] || return 0
	pid=$(cat "$1")
	kill "$pid" 2>/dev/null || return 0
	i=0
	while kill -0 "$pid" 2>/dev/null && [ $i -lt 150 ]; do
		sleep 0.1; i=$((i + 1))
	done
	kill -9 "$pid" 2>/dev/null || true
}

cleanup() {
	set +e
	for f in $PIDS; do
		stop_pidfile "$f"
	done
	if [ -n "${BENCH_KEEP:-}" ]; then say "kept $TMP"; else rm -rf "$TMP"; fi
}
trap cleanup EXIT
trap 'exit 130' HUP INT PIPE TERM

USED_PORTS=" "
free_port() {	# a port nobody listens on, below the ephemeral range
	while :; do
		p=$(shuf -i 20000-32000 -n 1)
		case $USED_PORTS in *" $p "*) continue ;; esac
		if [ -z "$(ss -Htan "( sport = :$p )")" ]; then
			USED_PORTS="$USED_PORTS$p "
			echo "$p"
			return
		fi
	done
}

wait_pidfile() {	# file what
	i=0
	until [ -s "$1" ]; do
		i=$((i + 1))
		[ $i -lt 100 ] || die "$2 did not start"
		sleep 0.1
	done
}

wait_http() {	# url what
	i=0
	until [ "$(curl -s -o /dev/null -w '%{http_code}' "$1")" != 000 ]; do
		i=$((i + 1))
		[ $i -lt 100 ] || die "$2 does not answer on $1"
		sleep 0.1
	done
}

start_lighttpd() {	# conf pidfile what
	lighttpd -tt -f "$1" >/dev/null || die "$3: lighttpd refused $1"
	lighttpd -f "$1" || die "$3: lighttpd failed to start"
	PIDS="$PIDS $2"
	wait_pidfile "$2" "$3"
}

common_conf() {	# dir port tag: the core settings every instance shares
	cat <<EOT
server.port          = $2
server.bind          = "127.0.0.1"
server.document-root = "$1/www"
server.pid-file      = "$1/lighttpd.pid"
server.errorlog      = "$1/lighttpd-error.log"
server.upload-dirs   = ( "$1" )
server.tag           = "$3"
EOT
}

# (a) The upstream: lighttpd serving the models list as a static file.
UP_PORT=$(free_port)
mkdir -p "$TMP/up/www/v1"
printf '%s' '{"object":"list","data":[{"id":"mock-model","object":"model","created":0,"owned_by":"ocss-mock"}]}' \
    > "$TMP/up/www/v1/models"
{
	common_conf "$TMP/up" "$UP_PORT" bench-upstream
	echo 'mimetype.assign = ( "" => "application/json" )'
} > "$TMP/up/lighttpd.conf"
start_lighttpd "$TMP/up/lighttpd.conf" "$TMP/up/lighttpd.pid" upstream
URL_A=http://127.0.0.1:$UP_PORT/v1/models
wait_http "$URL_A" upstream

# (b) Plain reverse proxy.  lighttpd 1.4 mod_proxy has no setting for
# keep-alive to a backend: it always sends "Connection: close" (proxy.header
# only has map-*, https-remap, upgrade, connect (the CONNECT method) and
# force-http10), so every proxied request opens a new TCP connection.  The
# streaming and parsing settings are the ones ocss.conf.in uses, so (b) and
# (c) differ only in the handler.
PX_PORT=$(free_port)
mkdir -p "$TMP/px/www"
{
	common_conf "$TMP/px" "$PX_PORT" bench-proxy
	cat <<EOT
server.modules += ( "mod_proxy" )
server.stream-request-body  = 2
server.stream-response-body = 2
server.max-request-size = $((11 * 1024))
server.http-parseopts = (
  "header-strict"  => "enable",
  "host-strict"    => "enable",
  "url-normalize"  => "enable",
  "url-path-dotseg-remove" => "enable",
)
proxy.server = ( "" => (( "host" => "127.0.0.1", "port" => $UP_PORT )) )
EOT
} > "$TMP/px/lighttpd.conf"
start_lighttpd "$TMP/px/lighttpd.conf" "$TMP/px/lighttpd.pid" "mod_proxy"
URL_B=http://127.0.0.1:$PX_PORT/v1/models
wait_http "$URL_B" "mod_proxy"

# The front of (c) and (d): lighttpd as the quick start renders it, talking
# FastCGI to DIR/ocss.sock.
start_front() {	# dir port what
	sed -e "s|@PORT@|$2|" -e "s|@BIND@|127.0.0.1|" \
	    -e "s|@WWW_DIR@|$SRC/www|" -e "s|@RUN_DIR@|$1|g" \
	    -e "s|@SOCKET@|$1/ocss.sock|" -e "s|@MAX_KB@|$((11 * 1024))|" \
	    "$SRC/contrib/lighttpd/ocss.conf.in" > "$1/lighttpd.conf"
	start_lighttpd "$1/lighttpd.conf" "$1/lighttpd.pid" "$3"
}

# (c) lighttpd -> ocss-fcgi, one stack per pool size.
for pool in $POOLS; do
	d=$TMP/c$pool
	mkdir -p "$d/state"
	chmod 700 "$d/state"
	port=$(free_port)
	echo "$port" > "$d/port"
	(
		unset OCSS_ENV_FILE
		export OPENCLAW_TOKEN="$TOKEN" \
		    UPSTREAM_URL="http://127.0.0.1:$UP_PORT" \
		    OCSS_CONF_DIR="$TOP/conf" OCSS_STATE_DIR="$d/state" \
		    GOVERNANCE_SECRET="$GOV_SECRET"
		"$BUILD/ocss-fcgi" --check >/dev/null 2>"$d/ocss-fcgi.err" ||
		    { cat "$d/ocss-fcgi.err" >&2; exit 1; }
		spawn-fcgi -s "$d/ocss.sock" -M 0600 -P "$d/ocss-fcgi.pid" -- \
		    "$BUILD/ocss-fcgi" --workers "${pool%x*}" \
		    --threads "${pool#*x}" >/dev/null 2>>"$d/ocss-fcgi.err"
	) || die "ocss-fcgi $pool did not start: $d/ocss-fcgi.err"
	PIDS="$PIDS $d/ocss-fcgi.pid"
	wait_pidfile "$d/ocss-fcgi.pid" "ocss-fcgi $pool"
	start_front "$d" "$port" "ocss front $pool"
	wait_http "http://127.0.0.1:$port/health" "ocss $pool"
done
url_c() { echo "http://127.0.0.1:$(cat "$TMP/c$1/port")/v1/models"; }

# (d) the floor: fcgi-floor behind the same front, shaped like the first pool.
FLOORS=
if [ "$FLOOR" = 1 ]; then
	FLOORS="curl socket none"
	first=${POOLS%% *}
fi
for f in $FLOORS; do
	d=$TMP/d$f
	mkdir -p "$d"
	port=$(free_port)
	echo "$port" > "$d/port"
	spawn-fcgi -s "$d/ocss.sock" -M 0600 -P "$d/floor.pid" -- \
	    "$BUILD/tests/bench/fcgi-floor" "$f" "${first%x*}" "${first#*x}" \
	    "http://127.0.0.1:$UP_PORT/v1/models" >/dev/null 2>>"$d/floor.err" ||
	    die "fcgi-floor $f did not start: $(cat "$d/floor.err")"
	PIDS="$PIDS $d/floor.pid"
	wait_pidfile "$d/floor.pid" "fcgi-floor $f"
	start_front "$d" "$port" "floor front $f"
	wait_http "http://127.0.0.1:$port/v1/models" "floor $f"
done

# --- every setup answers the same thing, and (c) really is ocss ------------
check() {	# url what
	h=$(curl -sS -D - -o "$TMP/body" -H "Authorization: Bearer $TOKEN" "$1") ||
	    die "$2: request failed"
	printf '%s' "$h" | head -n 1 | grep -q ' 200' || die "$2: not 200: $h"
	printf '%s' "$h" | grep -qi '^Content-Type: application/json' ||
	    die "$2: not JSON: $h"
	cmp -s "$TMP/body" "$TMP/up/www/v1/models" || die "$2: other body"
}
check "$URL_A" "(a) upstream"
check "$URL_B" "(b) mod_proxy"
for pool in $POOLS; do
	check "$(url_c "$pool")" "(c) ocss $pool"
	curl -sS -D - -o /dev/null -H "Authorization: Bearer $TOKEN" \
	    "$(url_c "$pool")" | grep -qi '^X-Request-Id:' ||
	    die "(c) ocss $pool: no X-Request-Id, not ocss"
	[ "$(curl -s -o /dev/null -w '%{http_code}' "$(url_c "$pool")")" = 401 ] ||
	    die "(c) ocss $pool: answers without the token"
done

for f in $FLOORS; do
	check "http://127.0.0.1:$(cat "$TMP/d$f/port")/v1/models" "(d) floor $f"
done

# --- measuring --------------------------------------------------------------
SETUPS="a b"
for pool in $POOLS; do SETUPS="$SETUPS c$pool"; done
for f in $FLOORS; do SETUPS="$SETUPS d$f"; done
HZ=$(getconf CLK_TCK)

url_of() {
	case $1 in
	a) echo "$URL_A" ;;
	b) echo "$URL_B" ;;
	c*) url_c "${1#c}" ;;
	d*) echo "http://127.0.0.1:$(cat "$TMP/$1/port")/v1/models" ;;
	esac
}
workers() { pgrep -P "$(cat "$TMP/c$1/ocss-fcgi.pid")" | sort -n; }
# The processes of each tier of a setup, for the CPU time they spend.
pids_front() {
	case $1 in b) cat "$TMP/px/lighttpd.pid" ;; [cd]*) cat "$TMP/$1/lighttpd.pid" ;; esac
}
pids_ocss() {
	case $1 in
	c*) workers "${1#c}" ;;
	d*) p=$(cat "$TMP/$1/floor.pid"); echo "$p"; pgrep -P "$p" || true ;;
	esac
}
ticks() {	# user + system clock ticks of these processes (all threads)
	t=0
	for p in "$@"; do
		t=$((t + $(sed 's/.*) //' "/proc/$p/stat" | awk '{ print $12 + $13 }')))
	done
	echo "$t"
}

passive_opens() {	# TCP connections accepted so far, system-wide
	awk '/^Tcp:/ { if (!h) { for (i = 1; i <= NF; i++) c[$i] = i; h = 1 }
	    else print $c["PassiveOpens"] }' /proc/net/snmp
}

# shellcheck disable=SC2046 # pid lists are split on purpose
run_wrk() {	# name setup connections threads seconds
	f0=$(ticks $(pids_front "$2")); o0=$(ticks $(pids_ocss "$2"))
	u0=$(ticks "$(cat "$TMP/up/lighttpd.pid")"); c0=$(passive_opens)
	wrk -t "$4" -c "$3" -d "${5}s" --latency -s "$LUA" \
	    -H "Authorization: Bearer $TOKEN" "$(url_of "$2")" \
	    > "$TMP/wrk-$1.out" 2>&1 || die "wrk $1 failed: $(cat "$TMP/wrk-$1.out")"
	echo "$(( $(passive_opens) - c0 )) $(( $(ticks $(pids_front "$2")) - f0 ))" \
	    "$(( $(ticks $(pids_ocss "$2")) - o0 ))" \
	    "$(( $(ticks "$(cat "$TMP/up/lighttpd.pid")") - u0 ))" > "$TMP/wrk-$1.sys"
	grep -q '^bench: ' "$TMP/wrk-$1.out" ||
	    die "wrk $1: no result: $(cat "$TMP/wrk-$1.out")"
}

get() {	# name key
	sed -n "s/^bench:.* $2=\([0-9]*\).*/\1/p" "$TMP/wrk-$1.out"
}
sys() { cut -d' ' -f"$2" "$TMP/wrk-$1.sys"; }	# name field

rps() { awk -v n="$(get "$1" requests)" -v us="$(get "$1" duration_us)" \
    'BEGIN { printf "%.0f", n / (us / 1e6) }'; }
ms() { awk -v us="$(get "$1" "$2")" 'BEGIN { printf "%.3f", us / 1000 }'; }
ratio() { awk -v x="$1" -v y="$2" 'BEGIN { printf "%.2f", (y > 0 ? x / y : 0) }'; }
diff_ms() { awk -v x="$(get "$1" p50_us)" -v y="$(get "$2" p50_us)" \
    'BEGIN { printf "%+.3f", (x - y) / 1000 }'; }
errors() {	# "" or a note when wrk saw non-2xx answers or socket errors
	s=$(get "$1" status_errors); e=$(get "$1" socket_errors)
	[ "$s$e" = 00 ] || printf ' (%s non-2xx, %s socket errors)' "$s" "$e"
}
conn_per_req() { awk -v o="$(sys "$1" 1)" -v n="$(get "$1" requests)" \
    'BEGIN { printf "%.2f", (n > 0 ? o / n : 0) }'; }
cpu_us() {	# name field: CPU microseconds per request of one tier, "-" if none
	awk -v t="$(sys "$1" "$2")" -v n="$(get "$1" requests)" -v hz="$HZ" \
	    -v none="$3" 'BEGIN { if (none == "") print "-";
	    else printf "%.0f", t * 1e6 / hz / n }'
}
cpu_total() { awk -v t="$(( $(sys "$1" 2) + $(sys "$1" 3) + $(sys "$1" 4) ))" \
    -v n="$(get "$1" requests)" -v hz="$HZ" \
    'BEGIN { printf "%.0f", t * 1e6 / hz / n }'; }

median() {	# prefix key: the run (prefix-1..ROUNDS) with the median key
	for r in $(seq "$ROUNDS"); do
		case $2 in
		rps) echo "$(rps "$1-$r") $1-$r" ;;
		*) echo "$(get "$1-$r" "$2") $1-$r" ;;
		esac
	done | sort -n | sed -n "$(( (ROUNDS + 1) / 2 ))p" | cut -d' ' -f2
}
range() {	# prefix: "min-max" req/s over the rounds
	for r in $(seq "$ROUNDS"); do rps "$1-$r"; echo; done | sort -n |
	    awk 'NR == 1 { a = $1 } { b = $1 } END { printf "%s-%s", a, b }'
}

rss() {	# pool -> "sum_kib kib,kib,..." of the ocss-fcgi workers
	sum=0; list=""
	for w in $(workers "$1"); do
		k=$(awk '/^VmRSS:/ { print $2 }' "/proc/$w/status")
		sum=$((sum + k)); list="$list${list:+,}$k"
	done
	echo "$sum $list"
}

served=0	# requests the RSS loop got
rss_loop() {	# pool: at least RSS_REQUESTS requests, at most ~RSS_MAX_SECONDS
	served=0; i=0; t0=$(date +%s)
	while [ "$served" -lt "$RSS_REQUESTS" ] &&
	    [ $(( $(date +%s) - t0 )) -lt "$RSS_MAX_SECONDS" ]; do
		i=$((i + 1))
		run_wrk "rss$1-$i" "c$1" "$CONNS" "$WRK_THREADS" 5
		served=$((served + $(get "rss$1-$i" requests)))
	done
}

# System calls and context switches per request of each tier, counted by
# perf stat over one more run of each setup (not one of the measured ones:
# counting has a cost of its own).  Needs perf and leave to trace.
perf_ok() {
	[ "$PERF_SECONDS" -gt 0 ] && command -v perf >/dev/null 2>&1 &&
	    perf stat -e raw_syscalls:sys_enter -p "$(cat "$TMP/up/lighttpd.pid")" \
	    -o /dev/null -- sleep 0.1 >/dev/null 2>&1
}
perf_run() {	# setup
	for tier in front ocss up; do
		case $tier in
		front) p=$(pids_front "$1") ;;
		ocss) p=$(pids_ocss "$1") ;;
		up) p=$(cat "$TMP/up/lighttpd.pid") ;;
		esac
		[ -n "$p" ] || continue
		perf stat -x, -e raw_syscalls:sys_enter,context-switches \
		    -p "$(echo "$p" | xargs | tr ' ' ,)" -o "$TMP/perf-$1-$tier" \
		    -- sleep $((PERF_SECONDS + 1)) >/dev/null 2>&1 &
	done
	sleep 0.5
	run_wrk "perf-$1" "$1" "$CONNS" "$WRK_THREADS" "$PERF_SECONDS"
	wait
}
per_req() {	# setup tier event: count per request, "-" if not measured
	f=$TMP/perf-$1-$2
	[ -s "$f" ] || { echo -; return; }
	awk -F, -v ev="$3" -v n="$(get "perf-$1" requests)" \
	    '$3 == ev { printf "%.1f", (n > 0 ? $1 / n : 0) }' "$f"
}

LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
for pool in $POOLS; do
	rss "$pool" > "$TMP/rss-start-$pool"
done
say "warm-up, ${WARMUP}s each"
for s in $SETUPS; do
	run_wrk "warm-$s" "$s" "$CONNS" "$WRK_THREADS" "$WARMUP"
done
for pool in $POOLS; do
	rss "$pool" > "$TMP/rss-before-$pool"
done
# Rounds interleave the setups, so a burst of other load on the machine
# hits all of them alike; the report takes each setup's median round.
for r in $(seq "$ROUNDS"); do
	say "round $r/$ROUNDS: throughput, ${DURATION}s, $CONNS connections"
	for s in $SETUPS; do
		run_wrk "tp-$s-$r" "$s" "$CONNS" "$WRK_THREADS" "$DURATION"
	done
	say "round $r/$ROUNDS: latency, ${DURATION}s, 1 connection"
	for s in $SETUPS; do
		run_wrk "lat-$s-$r" "$s" 1 1 "$DURATION"
	done
done
for pool in $POOLS; do
	say "RSS: >= $RSS_REQUESTS requests through ocss $pool"
	rss "$pool" > "$TMP/rss-loop-$pool"
	rss_loop "$pool"
	echo "$served" > "$TMP/rss-served-$pool"
	rss "$pool" > "$TMP/rss-after-$pool"
done
if perf_ok; then
	say "system calls and context switches: ${PERF_SECONDS}s per setup under perf stat"
	for s in $SETUPS; do
		perf_run "$s"
	done
	PERF=1
else
	say "no perf (or not allowed to trace): no system call counts"
	PERF=
fi
LOAD1=$(cut -d' ' -f1-3 /proc/loadavg)

# --- report -----------------------------------------------------------------
cmd=tests/bench/bench-gateway.sh
for v in OCSS_BUILD BENCH_DURATION BENCH_ROUNDS BENCH_CONNS BENCH_WRK_THREADS \
    BENCH_POOLS BENCH_RSS_REQUESTS BENCH_RSS_MAX_SECONDS; do
	eval "x=\${$v:-}"
	[ -z "$x" ] || cmd="$v='$x' $cmd"
done
name() {
	case $1 in
	a) echo "(a) upstream direct" ;;
	b) echo "(b) lighttpd mod_proxy" ;;
	c*) p=${1#c}; echo "(c) lighttpd + ocss-fcgi ${p%x*} workers x ${p#*x} threads" ;;
	dcurl) echo "(d) floor: lighttpd + fcgi-floor, libcurl, $first" ;;
	dsocket) echo "(d) floor: lighttpd + fcgi-floor, plain socket, $first" ;;
	dnone) echo "(d) floor: lighttpd + fcgi-floor, no upstream, $first" ;;
	esac
}
ta=$(median tp-a rps); tb=$(median tp-b rps)
la=$(median lat-a p50_us); lb=$(median lat-b p50_us)

cat <<EOT
Date: $(date -u '+%Y-%m-%d %H:%M UTC'); $(nproc) CPUs, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1); Linux $(uname -r)
$(lighttpd -v 2>&1 | head -n 1 | sed 's/ - a light.*//'); $(wrk -v 2>&1 | head -n 1 | sed 's/ Copyright.*//'); $(curl -V | head -n 1 | cut -d' ' -f1-2) (libcurl of ocss-fcgi); ocss $(git -C "$TOP" describe --always --dirty 2>/dev/null || echo "source $TOP") built in ${BUILD#"$SRC"/} ($(sed -n 's/^CFLAGS = //p' "$BUILD/Makefile"))
Load average before/after: $LOAD0 / $LOAD1

Command: \`$cmd\`

Throughput: \`wrk -t $WRK_THREADS -c $CONNS -d ${DURATION}s --latency -H 'Authorization: Bearer ...' URL/v1/models\`,
$ROUNDS rounds with the setups interleaved, after a ${WARMUP}s warm-up of each;
each row is the setup's median round (req/s range over all rounds in brackets).
CPU: user+system time per request of the proxy tier (lighttpd), the ocss-fcgi
workers and the upstream lighttpd (wrk not counted).  Conn/req: TCP connections
accepted (system-wide PassiveOpens) per request.

| Setup | req/s | p50 ms | p99 ms | c/a | c/b | CPU us/req proxy + ocss + upstream = total | conn/req |
|---|---:|---:|---:|---:|---:|---:|---:|
EOT
for s in $SETUPS; do
	n=$(median "tp-$s" rps); r=$(rps "$n")
	case $s in
	[cd]*) ca=$(ratio "$r" "$(rps "$ta")"); cb=$(ratio "$r" "$(rps "$tb")") ;;
	*) ca=; cb= ;;
	esac
	echo "| $(name "$s") | $r [$(range "tp-$s")]$(errors "$n") | $(ms "$n" p50_us) | $(ms "$n" p99_us) | $ca | $cb | $(cpu_us "$n" 2 "$(pids_front "$s")") + $(cpu_us "$n" 3 "$(pids_ocss "$s")") + $(cpu_us "$n" 4 x) = $(cpu_total "$n") | $(conn_per_req "$n") |"
done
cat <<EOT

Latency at 1 connection: \`wrk -t 1 -c 1 -d ${DURATION}s --latency ...\`, the
median round by p50.

| Setup | req/s | p50 ms | p99 ms | added p50 vs (a) ms | added p50 vs (b) ms |
|---|---:|---:|---:|---:|---:|
EOT
for s in $SETUPS; do
	n=$(median "lat-$s" p50_us)
	case $s in
	a) da=; db= ;;
	b) da=$(diff_ms "$n" "$la"); db= ;;
	*) da=$(diff_ms "$n" "$la"); db=$(diff_ms "$n" "$lb") ;;
	esac
	echo "| $(name "$s") | $(rps "$n")$(errors "$n") | $(ms "$n" p50_us) | $(ms "$n" p99_us) | $da | $db |"
done
if [ -n "$PERF" ]; then
	cat <<EOT

System calls and context switches per request of each tier: one more
${PERF_SECONDS}s throughput run of each setup under \`perf stat -e
raw_syscalls:sys_enter,context-switches -p PIDS\` (its req/s not counted).

| Setup | syscalls/req proxy + ocss + upstream | context switches/req proxy + ocss + upstream |
|---|---:|---:|
EOT
	for s in $SETUPS; do
		echo "| $(name "$s") | $(per_req "$s" front raw_syscalls:sys_enter) + $(per_req "$s" ocss raw_syscalls:sys_enter) + $(per_req "$s" up raw_syscalls:sys_enter) | $(per_req "$s" front context-switches) + $(per_req "$s" ocss context-switches) + $(per_req "$s" up context-switches) |"
	done
fi
cat <<EOT

ocss-fcgi worker RSS (VmRSS, KiB; sum over the workers, each in brackets): at
start, after the warm-up, after all the runs above ("before"), and after a loop
of 5 s wrk runs until >= $RSS_REQUESTS more requests ("after").

| Pool | at start | after warm-up | before | after | requests in the loop | change in the loop | change since warm-up (requests) |
|---|---:|---:|---:|---:|---:|---:|---:|
EOT
change() { awk -v a="$1" -v b="$2" \
    'BEGIN { printf "%+d KiB (%+.1f%%)", b - a, (a ? (b - a) * 100 / a : 0) }'; }
for pool in $POOLS; do
	# shellcheck disable=SC2046 # "sum list", split on purpose
	set -- $(cat "$TMP/rss-start-$pool"); s0=$1; l0=$2
	# shellcheck disable=SC2046
	set -- $(cat "$TMP/rss-before-$pool"); s1=$1; l1=$2
	# shellcheck disable=SC2046
	set -- $(cat "$TMP/rss-loop-$pool"); s2=$1; l2=$2
	# shellcheck disable=SC2046
	set -- $(cat "$TMP/rss-after-$pool"); s3=$1; l3=$2
	loop=$(cat "$TMP/rss-served-$pool"); all=$loop
	for r in $(seq "$ROUNDS"); do
		all=$((all + $(get "tp-c$pool-$r" requests) +
		    $(get "lat-c$pool-$r" requests)))
	done
	echo "| ${pool%x*}x${pool#*x} | $s0 [$l0] | $s1 [$l1] | $s2 [$l2] | $s3 [$l3] | $loop | $(change "$s2" "$s3") | $(change "$s1" "$s3") ($all) |"
done
