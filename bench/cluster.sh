#!/usr/bin/env bash
# bench/cluster.sh: what clustering (issue 16) costs ingest. Two warm servers side by side, one
# with cluster = off, one a member of a cluster (cluster = on, seeded by itself: remoting, the
# fleet guard's round trip for every dump, the fleet catalog's writes), fbsd_load alternating
# between them (as bench/fleet.sh does for HTTP), medians and ratio; then the HERALD-to-ack
# delay the fleet guard adds, from the servers' own metrics (netdump_herald_ack_seconds).
#
#   bench/cluster.sh                     # ROUNDS=5 MIB=128 CLIENTS="1 8"
# Everything stays on 127.0.0.0/8. Not part of the test run.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SHARED=${NETDUMP_SHARED:-$ROOT/../shared}
ROUNDS=${ROUNDS:-5} MIB=${MIB:-128} CLIENTS=${CLIENTS:-"1 8"}
OUT=${BENCH_OUT:-/tmp/netdump-bench-cluster}
BASE_IP=${BASE_IP:-127.0.16.10}
. "$ROOT/bench/publish.sh"
publish_server "$OUT"
. "$ROOT/bench/cpu.sh"
work=$(mktemp -d /tmp/netdump-bench-cluster.XXXXXX)
echo > "$work/off.conf"
printf 'cluster = on\ncluster_seeds = 127.0.0.1:20191\ncluster_port = 20191\nnode_name = bench\n' > "$work/on.conf"
# start SIDE PORT HTTP: a server in its own process group; its pid in $srv
start() {
	mkdir -p "$work/$1"
	setsid dotnet "$DLL" --dumpdir "$work/$1" --addr 127.0.0.1 --port "$2" --linux-port 0 --secure 0 --concurrent 64 \
	    --http "127.0.0.1:$3" --config "$work/$1.conf" > "$work/$1.log" 2>&1 &
	srv=$!
	for _ in $(seq 600); do grep -q "Listening for netdump" "$work/$1.log" && break; sleep 0.1; done
}
start off 20125 20182; off_pg=$srv
start on 20126 20183; on_pg=$srv
for _ in $(seq 300); do grep -q "Cluster: node bench is up" "$work/on.log" && break; sleep 0.1; done
load=/tmp/netdump-bench-build/fbsd_load
mkdir -p /tmp/netdump-bench-build
gcc -O2 -Wall -o "$load" "$SHARED/bench/fbsd_load.c" || exit 2
echo "netdump-server, cluster on against off: $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores"
echo
echo "| clients | cluster off MiB/s | cluster on MiB/s | ratio on/off | server CPU s per GiB (off/on) | rounds |"
echo "|---|---|---|---|---|---|"
for clients in $CLIENTS; do
	: > "$work/runs"
	for port in 20125 20126; do "$load" --clients "$clients" --mib 16 --server 127.0.0.1 --port $port --base-ip "$BASE_IP" --quiet > /dev/null; done
	rm -rf "$work"/off/127.* "$work"/on/127.*
	for r in $(seq "$ROUNDS"); do
		order="off on"; [ $((r % 2)) = 0 ] && order="on off"
		for side in $order; do
			if [ $side = off ]; then pg=$off_pg port=20125; else pg=$on_pg port=20126; fi
			c0=$(cpu $pg)
			result=$("$load" --clients "$clients" --mib "$MIB" --server 127.0.0.1 --port $port --base-ip "$BASE_IP" --quiet 2>> "$work/err" | grep '^{' | tail -n 1)
			c1=$(cpu $pg)
			echo "$side $c0 $c1 $result" >> "$work/runs"
			rm -rf "$work/$side"/127.*
		done
	done
	python3 "$ROOT/bench/side_by_side.py" "$work/runs" "$ROUNDS" "$clients"
done
# the HERALD-to-ack histogram of each server: every dump of the run, warm-ups included
echo
for side in off:20182 on:20183; do
	curl -s "http://127.0.0.1:${side#*:}/metrics" | python3 -c '
import sys
name = sys.argv[1]
buckets, count, total = [], 0, 0.0
for line in sys.stdin:
    if line.startswith("netdump_herald_ack_seconds_bucket"):
        le = line.split("le=\"")[1].split("\"")[0]
        buckets.append((float("inf") if le == "+Inf" else float(le), float(line.split()[-1])))
    elif line.startswith("netdump_herald_ack_seconds_count"):
        count = float(line.split()[-1])
    elif line.startswith("netdump_herald_ack_seconds_sum"):
        total = float(line.split()[-1])
def quantile(q):
    for le, n in buckets:
        if n >= q * count:
            return le
print(f"cluster {name}: HERALD-to-ack over {count:.0f} dumps: mean {total / count * 1000 if count else 0:.1f} ms, median <= {quantile(0.5) * 1000:g} ms, p99 <= {quantile(0.99) * 1000:g} ms (histogram buckets)")
' "${side%%:*}"
done
kill -TERM "$off_pg" "$on_pg"; wait "$off_pg" "$on_pg" 2>/dev/null
[ -n "${BENCH_KEEP:-}" ] || rm -rf "$work"
