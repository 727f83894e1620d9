#!/usr/bin/env bash
# bench/storm.sh DLL: a crash storm of small machines (issue 19), this server against the C
# reference (../shared/bench) in the same run: for each STORMS entry (clients:MiB per client),
# ROUNDS rounds, each round one run of each server under the same fbsd_load storm, which goes
# first alternating. Prints a markdown table of medians: MiB/s and ratio, HERALD-to-ack latency
# (median, p99, max over every client of every round), retransmits, server CPU, threads and peak
# RSS. Called by bench/run.sh (STORMS=...); runs alone too:
#
#   bench/storm.sh /tmp/netdump-bench-server/netdump-server.dll
#   STORMS="128:8" ROUNDS=5 bench/storm.sh DLL
#   WARM=1 bench/storm.sh DLL      # each server warmed by a small storm first (warm_run, below)
#
# The HERALD-to-ack latency comes from a packet capture on lo (tcpdump, which this script
# installs with apt-get when missing and it runs as root) with a filter that keeps only the
# HERALDs (to port 20023) and the 4-byte acks of sequence number 1 (fbsd_load's HERALD), so
# the capture sees a few hundred packets, not the data. Threads and peak RSS are sampled from
# /proc every 0.2 s by this script, outside the server's process group, whose CPU run_perf.sh
# counts. Each run's dumps go to a file system made for it (bench/fresh_fs.sh: as root, with
# mkfs.ext4; FRESH_FS=0 writes them in place). Everything stays on 127.0.0.0/8.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SHARED=${NETDUMP_SHARED:-$ROOT/../shared}
DLL=${1:?usage: bench/storm.sh NETDUMP_SERVER_DLL}
STORMS=${STORMS-"64:16 128:8 200:4"}
WARM=${WARM:-0}
. "$ROOT/bench/cpu.sh"
. "$ROOT/bench/fresh_fs.sh"
ROUNDS=${ROUNDS:-3}
PORT=20023

command -v tcpdump > /dev/null || { [ "$(id -u)" = 0 ] && apt-get install -y -q tcpdump > /dev/null 2>&1; } \
    || { echo "storm: tcpdump is needed for the HERALD latency (apt-get install tcpdump)" >&2; exit 2; }

# stop_server: the process group warm_run started, if any, stopped and waited for (its open
# files would keep the run's file system from being unmounted)
stop_server() {
	[ -n "$server" ] || return 0
	kill -TERM -- "-$server" 2> /dev/null
	wait "$server" 2> /dev/null
	server=
}

# start_capture RUN: the HERALDs and the acks of sequence 1 on lo, into RUN/heralds.pcap
start_capture() {
	local waited=0
	tcpdump -i lo -n -B 16384 -w "$1/heralds.pcap" -U \
	    "udp and (dst port $PORT or (dst port 20024 and udp[4:2] = 12 and udp[8:4] = 1))" 2> "$1/tcpdump.log" &
	capture=$!
	# ready once it says it listens (a fixed pause was too short right after a file system was
	# made); a 16 MiB buffer, since a storm's HERALDs and acks come all at once (immediate
	# mode dropped most of them)
	until grep -q "listening on" "$1/tcpdump.log" 2> /dev/null || [ $waited -gt 100 ]; do
		sleep 0.05
		waited=$((waited + 1))
	done
	sleep 0.1
}

# warm_run SIDE RUN (WARM=1): a server started here and warmed by a small storm (16 clients x
# 1 MiB, not measured), then the measured storm, as run_perf.sh reports it: a collector that has
# run before meets a storm with its code compiled and its threads started; run_perf.sh starts
# a fresh process for every run, whose first storm also pays .NET's first-use costs
warm_run() {
	local side=$1 run=$2 dir=$2/perf/dumps c0 c1 load rc waited=0
	mkdir -p "$dir"
	if [ "$side" = ours ]; then
		setsid "$ROOT/bench/serve.sh" "$DLL" "$dir" 127.0.0.1 $PORT "$run/peak_rss_kb" --concurrent "$clients" > "$run/server.log" 2>&1 < /dev/null &
	else
		setsid /tmp/netdump-bench-build/ref_server --quiet --dir "$dir" --addr 127.0.0.1 --port $PORT > "$run/server.log" 2>&1 < /dev/null &
	fi
	server=$!
	until grep -q ":$(printf %04X $PORT) " /proc/net/udp; do
		sleep 0.1
		waited=$((waited + 1))
		if [ $waited -gt 600 ] || ! kill -0 "$server" 2> /dev/null; then
			echo "storm: the $side server did not bind UDP $PORT (see $run/server.log)" >&2
			stop_server
			return 1
		fi
	done
	sleep 0.2
	/tmp/netdump-bench-build/fbsd_load --clients 16 --mib 1 --server 127.0.0.1 --port $PORT --quiet > /dev/null
	sleep 1 # the warm-up's sessions linger and end
	start_capture "$run"
	c0=$(cpu "$server")
	load=$(/tmp/netdump-bench-build/fbsd_load --clients "$clients" --mib "$mib" --server 127.0.0.1 --port $PORT --quiet 2> "$run/stderr.log")
	rc=$?
	c1=$(cpu "$server")
	stop_server
	python3 -c 'import json,sys; d=json.loads(sys.argv[1]); d["server_cpu_s"]=round(float(sys.argv[3])-float(sys.argv[2]),2); print(json.dumps(d))' \
	    "$load" "$c0" "$c1" > "$run/run.json"
	return $rc
}

# whether our server starts with the profile of an earlier run (serve.sh's cache_dir): without
# one, a fresh process compiles code during its first storm (docs/performance.md)
profile=${NETDUMP_BENCH_CACHE:-/var/tmp/netdump-bench-cache}/netdump-server/netdump-server.jitprofile
if [ -s "$profile" ]; then echo "storm: our server starts with a start-up profile ($(stat -c %s "$profile") bytes, $profile)"
else echo "storm: no start-up profile yet ($profile): our first server compiles during its storm, later ones start with the profile it writes"; fi
echo "| clients x MiB | ours MiB/s | ref MiB/s | ratio | HERALD-to-ack ms, median / p99 / max (ours) | (ref) | retransmits (ours/ref) | failed clients (ours/ref) | server CPU s (ours/ref) | threads (ours/ref) | peak RSS MB (ours/ref) |"
echo "|---|---|---|---|---|---|---|---|---|---|---|"
status=0
# a capture or a sampler left running would load the next measurement
trap 'kill $capture $sampler 2> /dev/null; stop_server; [ -n "${run:-}" ] && fresh_fs_done "$run/perf"; exit 130' INT TERM
capture= sampler= server= fresh=1
for storm in $STORMS; do
	clients=${storm%%:*} mib=${storm##*:}
	work=$(mktemp -d /tmp/netdump-storm.XXXXXX)
	for r in $(seq "$ROUNDS"); do
		order="ours ref"; [ $((r % 2)) = 0 ] && order="ref ours"
		for side in $order; do
			run=$work/$side-$r
			mkdir -p "$run"
			cmd=()
			[ "$side" = ours ] && cmd=(--server-cmd "$ROOT/bench/serve.sh $DLL {dir} {addr} {port} {dir}/../peak_rss_kb --concurrent $clients")
			# the server's threads and resident set while it runs (max over the samples)
			(
				threads=0 rss=0
				while :; do
					pid=$(pgrep -n -f "ref_server --quiet --dir $run|netdump-server.dll --dumpdir $run")
					if [ -n "$pid" ]; then
						t=$(awk '/^Threads:/ { print $2 }' "/proc/$pid/status" 2> /dev/null)
						m=$(awk '/^VmHWM:/ { print $2 }' "/proc/$pid/status" 2> /dev/null)
						[ -n "$t" ] && [ "$t" -gt "$threads" ] && threads=$t
						[ -n "$m" ] && [ "$m" -gt "$rss" ] && rss=$m
						echo "$threads $rss" > "$run/peak"
					fi
					sleep 0.2
				done
			) &
			sampler=$!
			# the dumps on a file system of their own (fresh_fs.sh says why)
			fresh_fs "$run/perf" || fresh=0
			if [ "$WARM" = 1 ]; then
				warm_run "$side" "$run" || status=1
			else
				start_capture "$run"
				"$SHARED/bench/run_perf.sh" --clients "$clients" --mib "$mib" --work-dir "$run/perf" --keep "${cmd[@]}" \
				    > "$run/run.json" 2> "$run/stderr.log" || status=1
			fi
			kill "$sampler" 2> /dev/null; wait "$sampler" 2> /dev/null
			# the kernel hands captured packets over in blocks, at the latest after 1 s: a run
			# shorter than that would lose them if the capture stopped at once
			sleep 1.1
			kill -INT "$capture" 2> /dev/null; wait "$capture" 2> /dev/null
			tcpdump -r "$run/heralds.pcap" -tt -n 2> /dev/null > "$run/heralds.txt"
			fresh_fs_done "$run/perf" || status=1
			rm -rf "$run/perf" "$run/heralds.pcap"
		done
	done
	python3 - "$work" "$clients" "$mib" <<'PY' || status=1
import glob, json, os, statistics, sys
work, clients, mib = sys.argv[1:]
def herald_delays(path):
    """per client: first HERALD sent -> first ack of sequence 1 received, in ms"""
    first, acked = {}, {}
    for line in open(path):
        parts = line.split()
        if len(parts) < 5 or parts[1] != "IP":
            continue
        t, src, dst = float(parts[0]), parts[2], parts[4].rstrip(":")
        if dst.endswith(".20023"):
            first.setdefault(src.rsplit(".", 1)[0], t)
        else:
            acked.setdefault(dst.rsplit(".", 1)[0], t)
    return [(acked[c] - first[c]) * 1000 for c in first if c in acked]
def side(name):
    runs, delays, peaks = [], [], []
    for d in sorted(glob.glob(os.path.join(work, f"{name}-*"))):
        try:
            runs.append(json.loads(open(os.path.join(d, "run.json")).read()))
        except ValueError:
            runs.append({"error": "no result", "failed_clients": int(clients)})
        if os.path.exists(os.path.join(d, "heralds.txt")):
            delays += herald_delays(os.path.join(d, "heralds.txt"))
        if os.path.exists(os.path.join(d, "peak")):
            peaks.append([int(v) for v in open(os.path.join(d, "peak")).read().split()])
    return runs, sorted(delays), peaks
def med(runs, key):
    v = [r[key] for r in runs if key in r]
    return statistics.median(v) if v else 0
def latency(d):
    if not d:
        return "n/a"
    return f"{statistics.median(d):.1f} / {d[min(len(d) - 1, int(len(d) * 0.99))]:.1f} / {d[-1]:.1f}"
(ours, od, op), (ref, rd, rp) = side("ours"), side("ref")
o, r = med(ours, "aggregate_mib_s"), med(ref, "aggregate_mib_s")
failed = lambda runs: sum(max(x.get("failed_clients", 0), 0) for x in runs)
peak = lambda p, i: max((x[i] for x in p), default=0)
print(f"| {clients} x {mib} | {o:.1f} | {r:.1f} | **{(o / r if r else 0):.2f}** | {latency(od)} | {latency(rd)} | "
      f"{sum(x.get('retransmits', 0) for x in ours)}/{sum(x.get('retransmits', 0) for x in ref)} | {failed(ours)}/{failed(ref)} | "
      f"{med(ours, 'server_cpu_s'):.2f}/{med(ref, 'server_cpu_s'):.2f} | {peak(op, 0)}/{peak(rp, 0)} | "
      f"{peak(op, 1) / 1024:.0f}/{peak(rp, 1) / 1024:.0f} |")
PY
	[ -n "${BENCH_KEEP:-}" ] || rm -rf "$work"
done
[ "$fresh" = 1 ] || echo "storm: the dumps were written in place under /tmp, not on a fresh file system (needs root and mkfs.ext4; bench/fresh_fs.sh)"
exit $status
