#!/usr/bin/env bash
# bench/fleet.sh: what seeing the fleet (issue 15) costs. Builds netdump-server in Release
# (ReadyToRun, as bench/run.sh) and prints three tables:
#   1. ingest with HTTP on and scraped (/metrics and /api/sessions once a second) against HTTP
#      off: two warm servers side by side, fbsd_load alternating between them, medians and
#      ratio; the metrics are counted in both (they cannot be turned off): their per-packet
#      cost is PacketPathBenchmarks' ReceivedPacketMetered
#   2. an idle server's CPU: HTTP off, HTTP on, HTTP on and scraped every 15 s, IDLE seconds each
#   3. the catalog at scale: a dump directory of SCALE generated dumps (gen_dumps.py): the
#      start-up scan's time, the server's RSS against an empty one's, and the time of API pages
#
#   bench/fleet.sh                       # ROUNDS=5 MIB=128 CLIENTS="1 8" IDLE=60 SCALE=100000
#   PARTS="scale" bench/fleet.sh         # only some of: ingest idle scale
# Everything stays on 127.0.0.0/8. Not part of the test run.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SHARED=${NETDUMP_SHARED:-$ROOT/../shared}
ROUNDS=${ROUNDS:-5} MIB=${MIB:-128} CLIENTS=${CLIENTS:-"1 8"} IDLE=${IDLE:-60} SCALE=${SCALE:-100000}
PARTS=${PARTS:-"ingest idle scale"}
OUT=${BENCH_OUT:-/tmp/netdump-bench-fleet}
HTTP=127.0.0.1:20181
# the load's client addresses: not fbsd_load's default, which other benches on the machine use
BASE_IP=${BASE_IP:-127.0.15.10}
. "$ROOT/bench/publish.sh"
publish_server "$OUT"
CONF=$(mktemp /tmp/netdump-fleet-conf.XXXXXX)
. "$ROOT/bench/cpu.sh"
rss_mb() { awk '/VmRSS/ {print $2/1024}' "/proc/$1/status"; }
# start DIR [options]: a server in its own process group on port 20123; its pid in $srv
start() {
	local dir=$1; shift
	setsid dotnet "$DLL" --dumpdir "$dir" --addr 127.0.0.1 --port "${PORT:-20123}" --linux-port 0 --secure 0 --config "$CONF" "$@" > "$dir.log" 2>&1 &
	srv=$!
	for _ in $(seq 6000); do grep -q "Listening for netdump" "$dir.log" && break; sleep 0.1; done
}
stop() { kill -TERM "$srv"; wait "$srv" 2>/dev/null; }

echo "netdump-server, seeing the fleet: $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores"
if [[ " $PARTS " == *" ingest "* ]]; then
	# two warm servers side by side, one with HTTP off, one with HTTP on and scraped like an
	# operator's tools would (/metrics and /api/sessions once a second: Prometheus at ten times
	# its usual rate, and a dashboard open); fbsd_load alternates between them, so a slow minute
	# of the machine falls on both. The first dump of each is a warm-up, not counted.
	echo
	echo "| clients | MTU | HTTP off MiB/s | HTTP on + scraped MiB/s | ratio on/off | server CPU s per GiB (off/on) | rounds |"
	echo "|---|---|---|---|---|---|---|"
	off=$(mktemp -d /tmp/netdump-fleet-off.XXXXXX) on=$(mktemp -d /tmp/netdump-fleet-on.XXXXXX)
	PORT=20123 start "$off" --http off --concurrent 64; off_pg=$srv
	PORT=20124 start "$on" --http $HTTP --concurrent 64; on_pg=$srv
	( while sleep 1; do curl -s -o /dev/null "http://$HTTP/metrics"; curl -s -o /dev/null "http://$HTTP/api/sessions"; done ) &
	scraper=$!
	mkdir -p /tmp/netdump-bench-build
	load=/tmp/netdump-bench-build/fbsd_load
	gcc -O2 -Wall -o "$load" "$SHARED/bench/fbsd_load.c" || exit 2
	for clients in $CLIENTS; do
		: > "$OUT.runs"
		for port in 20123 20124; do "$load" --clients "$clients" --mib 16 --server 127.0.0.1 --port $port --base-ip "$BASE_IP" --quiet > /dev/null; done
		rm -rf "$off"/127.* "$on"/127.*
		for r in $(seq "$ROUNDS"); do
			order="off on"; [ $((r % 2)) = 0 ] && order="on off"
			for side in $order; do
				if [ $side = off ]; then pg=$off_pg port=20123 dir=$off; else pg=$on_pg port=20124 dir=$on; fi
				c0=$(cpu $pg)
				result=$("$load" --clients "$clients" --mib "$MIB" --server 127.0.0.1 --port $port --base-ip "$BASE_IP" --quiet 2>> "$OUT.err" | grep '^{' | tail -n 1)
				c1=$(cpu $pg)
				echo "$side $c0 $c1 $result" >> "$OUT.runs"
				rm -rf "$dir"/127.*
			done
		done
		python3 "$ROOT/bench/side_by_side.py" "$OUT.runs" "$ROUNDS" "$clients" 1500
	done
	kill $scraper
	srv=$off_pg; stop; srv=$on_pg; stop
	[ -n "${BENCH_KEEP:-}" ] || rm -rf "$off" "$on" "$off.log" "$on.log" "$OUT.runs"
fi
if [[ " $PARTS " == *" idle "* ]]; then
	echo
	echo "| idle server, $IDLE s after 10 s of warm-up | CPU ms per second | RSS MB |"
	echo "|---|---|---|"
	for mode in off on scraped; do
		dir=$(mktemp -d /tmp/netdump-fleet-idle.XXXXXX)
		if [ $mode = off ]; then start "$dir" --http off; else start "$dir" --http $HTTP; fi
		sleep 10
		c0=$(cpu "$srv")
		if [ $mode = scraped ]; then
			for _ in $(seq $((IDLE / 15))); do curl -s -o /dev/null "http://$HTTP/metrics"; sleep 15; done
		else
			sleep "$IDLE"
		fi
		c1=$(cpu "$srv")
		echo "| HTTP $mode$([ $mode = scraped ] && echo ' (/metrics every 15 s)') | $(python3 -c "print(round(($c1-$c0)*1000/$IDLE, 2))") | $(rss_mb "$srv") |"
		stop; rm -rf "$dir" "$dir.log"
	done
fi
if [[ " $PARTS " == *" scale "* ]]; then
	echo
	empty=$(mktemp -d /tmp/netdump-fleet-empty.XXXXXX)
	start "$empty" --http $HTTP
	for _ in $(seq 20); do curl -s -o /dev/null "http://$HTTP/api/dumps?host=web1.example.org"; done
	empty_rss=$(rss_mb "$srv")
	stop; rm -rf "$empty" "$empty.log"
	big=/tmp/netdump-fleet-scale
	if [ "$(ls "$big" 2>/dev/null | wc -l)" != "$SCALE" ]; then rm -rf "$big"; python3 "$ROOT/bench/gen_dumps.py" "$big" "$SCALE"; fi
	sync; echo 3 > /proc/sys/vm/drop_caches 2>/dev/null || true
	t0=$(date +%s.%N)
	start "$big" --http $HTTP
	until curl -sf "http://$HTTP/healthz" | grep -q "\"dumps\":$SCALE"; do sleep 0.1; done
	t1=$(date +%s.%N)
	scan=$(grep -o "Start-up scan: [0-9]* dumps in [0-9.]* s" "$big.log")
	# median of 21 requests each, timed by curl
	page() { for _ in $(seq 21); do curl -s -o /dev/null -w '%{time_total}\n' "http://$HTTP$1"; done | sort -n | sed -n 11p; }
	echo "| catalog of $SCALE dumps | value |"
	echo "|---|---|"
	echo "| start to /healthz answering (cold cache) | $(python3 -c "print(round($t1-$t0, 1))") s ($scan) |"
	full_rss=$(rss_mb "$srv")
	echo "| RSS: empty server / $SCALE dumps / difference | $empty_rss / $full_rss / **$(python3 -c "print(round($full_rss-$empty_rss))") MB** |"
	for q in "/api/dumps?limit=50" "/api/dumps?host=web123.example.org" "/api/dumps?status=incomplete&since=1d&limit=50" "/api/dumps?offset=90000&limit=50" "/api/groups" "/api/sessions" "/healthz"; do
		echo "| GET $q (median of 21) | $(python3 -c "print(round($(page "$q")*1000, 2))") ms |"
	done
	for _ in $(seq 50); do curl -s -o /dev/null "http://$HTTP/api/dumps?status=incomplete&limit=1000"; done
	echo "| RSS after 50 pages of 1,000 | $(rss_mb "$srv") MB |"
	stop; rm -f "$big.log"
	[ -n "${BENCH_KEEP:-}" ] || rm -rf "$big"
fi
rm -f "$CONF"
