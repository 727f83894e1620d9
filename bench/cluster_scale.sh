#!/usr/bin/env bash
# bench/cluster_scale.sh: the fleet catalog at scale (issue 16): three nodes (127.0.0.81-83),
# one conf, each with PER_NODE generated dumps (bench/gen_dumps.py) in its own dump directory;
# prints how long after the three started every node lists all of them (/api/dumps' total),
# and each node's RSS then. Not part of the test run; loopback only.
#
#   bench/cluster_scale.sh               # PER_NODE=10000
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PER_NODE=${PER_NODE:-10000}
OUT=${BENCH_OUT:-/tmp/netdump-bench-cluster-scale}
. "$ROOT/bench/publish.sh"
publish_server "$OUT"
work=$(mktemp -d /tmp/netdump-cluster-scale.XXXXXX)
printf 'cluster = on\ncluster_seeds = 127.0.0.81:20291, 127.0.0.82:20292\nsecure = off\n' > "$work/netdump.conf"
for n in 1 2 3; do python3 "$ROOT/bench/gen_dumps.py" "$work/d$n" "$PER_NODE"; done
sync
total=$((3 * PER_NODE))
t0=$(date +%s.%N)
pids=()
for n in 1 2 3; do
	setsid dotnet "$OUT/netdump-server.dll" --config "$work/netdump.conf" --dumpdir "$work/d$n" --addr 127.0.0.8$n \
	    --port 2023$n --linux-port 0 --cluster-port 2029$n --node-name n$n --http 127.0.0.8$n:2028$n > "$work/n$n.log" 2>&1 &
	pids+=($!)
done
done_at=("" "" "" "") listed=0
# the servers go when this script ends, whatever ends it
trap 'kill -TERM "${pids[@]}" 2> /dev/null' EXIT
while [ "$listed" -lt 3 ]; do
	for n in 1 2 3; do
		[ -n "${done_at[$n]}" ] && continue
		t=$(curl -s "http://127.0.0.8$n:2028$n/api/dumps?limit=1" | python3 -c 'import json,sys
try: print(json.load(sys.stdin)["total"])
except Exception: print(0)')
		if [ "$t" = "$total" ]; then
			done_at[$n]=$(python3 -c "print(round($(date +%s.%N) - $t0, 1))")
			listed=$((listed + 1))
			echo "| n$n | ${done_at[$n]} s | $(awk '/VmRSS/ {print int($2/1024)}' "/proc/$(pgrep -n -f "dumpdir $work/d$n")/status") MB |"
		fi
	done
	sleep 0.5
	if python3 -c "import sys; sys.exit(0 if $(date +%s.%N) - $t0 > 600 else 1)"; then echo "gave up after 600 s" >&2; break; fi
done
kill -TERM "${pids[@]}"; wait 2>/dev/null; trap - EXIT
[ -n "${BENCH_KEEP:-}" ] || rm -rf "$work"
