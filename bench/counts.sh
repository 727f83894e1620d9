#!/usr/bin/env bash
# bench/counts.sh DLL: what a dump costs, counted rather than timed (counts do not move with this
# machine's noise, which doubles timings from one quarter of an hour to the next). For this server
# and the C reference (../shared/bench), each warm, twice N dumps of MIB MiB back to back on
# loopback (the switches counted over the first N, the calls over the second, under strace):
#
#   - system calls per dump, by name (strace -c -f over the whole process);
#   - context switches per dump, voluntary and involuntary, by thread ("/proc/PID/task/*/status";
#     our threads grouped by name: the .NET pool, the disk threads, the session pump, ...);
#   - futex calls per dump (the thread hand-offs: the reference makes none);
# then an idle server of ours (after two dumps and the linger): CPU ms per second and system calls
# in 3 s. Numbers in docs/performance.md ("The fixed cost per dump", sixth pass; "Idle").
#
#   bench/counts.sh /tmp/netdump-bench-server/netdump-server.dll
#   N=40 MIB=8 bench/counts.sh DLL
#
# Needs strace (installed with apt-get when missing and run as root). strace slows the server
# while it watches: its counts are exact, its timings are not used. Everything stays on 127.0.0.1.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SHARED=${NETDUMP_SHARED:-$ROOT/../shared}
DLL=${1:?usage: bench/counts.sh NETDUMP_SERVER_DLL}
N=${N:-20}
MIB=${MIB:-1}
PORT=20023
. "$ROOT/bench/cpu.sh"

command -v strace > /dev/null || { [ "$(id -u)" = 0 ] && apt-get install -y -q strace > /dev/null 2>&1; } \
    || { echo "counts: strace is needed (apt-get install strace)" >&2; exit 2; }
build=/tmp/netdump-bench-build
mkdir -p "$build"
gcc -O2 -Wall -o "$build/fbsd_load" "$SHARED/bench/fbsd_load.c" && gcc -O2 -Wall -o "$build/ref_server" "$SHARED/bench/ref_server.c" || exit 2
load() { "$build/fbsd_load" --clients 1 --mib "$1" --server 127.0.0.1 --port $PORT --quiet > /dev/null; }

work=$(mktemp -d /tmp/netdump-counts.XXXXXX)
conf=$(mktemp /tmp/netdump-counts-conf.XXXXXX)
server=
stop_server() {
	[ -n "$server" ] || return 0
	kill -TERM -- "-$server" 2> /dev/null
	wait "$server" 2> /dev/null
	server=
}
trap 'stop_server; rm -rf "$work" "$conf"' EXIT

# bound: whether some process has UDP port $1 on 127.0.0.1 or any address
bound() { grep -qiE "^ *[0-9]+: (0100007F|00000000):$(printf %04X "$1") " /proc/net/udp; }

# start SIDE: a fresh dump directory and that side's server in a process group of its own
# (setsid runs it in place: PID is the server itself, whose threads are counted). Ours with
# its defaults otherwise: the Linux port and HTTP on, as an operator runs it
start() {
	rm -rf "$work/dumps"; mkdir -p "$work/dumps"
	if [ "$1" = ours ]; then
		XDG_CACHE_HOME=$work/cache setsid dotnet "$DLL" --dumpdir "$work/dumps" --addr 127.0.0.1 --port $PORT \
		    --secure 0 --config "$conf" > "$work/server.log" 2>&1 < /dev/null &
	else
		setsid "$build/ref_server" --quiet --dir "$work/dumps" --addr 127.0.0.1 --port $PORT > "$work/server.log" 2>&1 < /dev/null &
	fi
	server=$! PID=$!
	for _ in $(seq 300); do
		bound $PORT && return 0
		kill -0 "$server" 2> /dev/null || break
		sleep 0.1
	done
	echo "counts: the $1 server did not start (its log: $(tail -n 3 "$work/server.log" | tr '\n' ' '))" >&2
	exit 2
}

# threads: "tid|name|voluntary|involuntary" for every thread of PID
threads() {
	for task in /proc/"$PID"/task/*; do
		echo "${task##*/}|$(cat "$task/comm" 2> /dev/null)|$(awk '/^voluntary_ctxt/{v=$2} /^nonvoluntary_ctxt/{n=$2} END{print v"|"n}' "$task/status" 2> /dev/null)"
	done
}

for port in $PORT 6666; do
	bound $port && { echo "counts: UDP port $port is in use (another server, or a bench running): nothing counted" >&2; exit 2; }
done
echo "what a dump costs, counted: $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, $N dumps of $MIB MiB back to back, warm servers"
for side in ours ref; do
	start $side
	load 1; load 1; load 8; sleep 1.5 # warm: the first dumps and a longer one, then quiet
	# the switches without strace (which stops every thread at every call), then the calls with it
	threads > "$work/before"
	for _ in $(seq "$N"); do load "$MIB"; done
	sleep 1.5
	threads > "$work/after"
	strace -f -c -o "$work/strace" -p "$PID" 2> /dev/null & tracer=$!
	sleep 0.5
	for _ in $(seq "$N"); do load "$MIB"; done
	sleep 1.5
	kill -INT $tracer; wait $tracer 2> /dev/null
	stop_server
	echo
	python3 - "$side" "$N" "$work/strace" "$work/before" "$work/after" <<'PY'
import collections, re, sys
side, n, strace, before, after = sys.argv[1], int(sys.argv[2]), *sys.argv[3:]
calls = {}
for line in open(strace):
    f = line.split()
    if len(f) >= 5 and f[0][0].isdigit() and f[-1] not in ("total", "syscall"):
        calls[f[-1]] = calls.get(f[-1], 0) + int(f[3])
total = sum(calls.values())
def read(path):
    out = {}
    for line in open(path):
        fields = line.rstrip("\n").split("|")
        if len(fields) == 4 and fields[2] and fields[3]:  # a thread that ended while it was read has none
            tid, name, vol, invol = fields
            out[tid] = (name, int(vol), int(invol))
    return out
b, a = read(before), read(after)
groups = collections.defaultdict(lambda: [0, 0])
for tid, (name, vol, invol) in a.items():
    v0, i0 = b.get(tid, (name, 0, 0))[1:]
    g = groups[re.sub(r"[-\d]+$", "", name) or name]
    g[0] += vol - v0; g[1] += invol - i0
vol = sum(g[0] for g in groups.values()); invol = sum(g[1] for g in groups.values())
print(f"{side}: {total / n:.0f} system calls per dump; futex {calls.get('futex', 0) / n:.1f}; "
      f"context switches voluntary {vol / n:.1f}, involuntary {invol / n:.1f}")
top = sorted(calls.items(), key=lambda kv: -kv[1])[:12]
print("  calls per dump: " + ", ".join(f"{name} {count / n:.1f}" for name, count in top))
busy = sorted(((k, g) for k, g in groups.items() if g[0] or g[1]), key=lambda kv: -(kv[1][0] + kv[1][1]))
print("  switches per dump by thread (voluntary/involuntary): " + ", ".join(f"{k} {g[0] / n:.1f}/{g[1] / n:.1f}" for k, g in busy))
PY
done

# an idle server of ours: after two dumps and the 30 s linger, nothing should wake it
start ours
load 1; load 1
sleep "${IDLE_AFTER:-35}"
idle_calls=$(timeout 3 strace -f -c -p "$PID" 2>&1 | awk '$NF == "total" {print $4}')
c0=$(cpu "$server"); sleep 20; c1=$(cpu "$server")
stop_server
echo
echo "ours idle: CPU $(python3 -c "print(round(($c1 - $c0) * 1000 / 20, 2))") ms a second (10 ms clock ticks over 20 s), ${idle_calls:-0} system calls in 3 s"
