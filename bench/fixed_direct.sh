#!/usr/bin/env bash
# bench/fixed_direct.sh DLL [DLL_B]: what one small dump costs the server, measured directly: the
# server's CPU for dumps of 64 KiB back to back, this server against the C reference
# (../shared/bench/ref_server.c) in the same run, or against a second build (DLL_B). A 64 KiB
# dump is its fixed cost plus 64 KiB of bytes (about 0.2 ms at the cost per byte that
# bench/run.sh's size table measures); bench/run.sh's fixed-cost line takes the difference of two
# large numbers (32 dumps of 1 MiB against 4 of 8 MiB) and moves by a millisecond from one sample
# to the next with this machine's speed; this one's samples by a tenth (docs/performance.md).
#
#   bench/fixed_direct.sh /tmp/netdump-bench-server/netdump-server.dll
#   SAMPLES=8 DUMPS=100 bench/fixed_direct.sh DLL OTHER_DLL
#
# Both servers run at once, each on a file system made for the run (bench/fresh_fs.sh) and warm
# (WARM dumps first); samples of DUMPS dumps alternate between them, the first side turning each
# sample. The client is the yardstick's fbsd_load, built to send 64 KiB (below). The servers'
# CPU comes from a cpuacct cgroup of their own (nanoseconds) when this runs as root on cgroup
# v1, else from /proc (10 ms ticks, which is 0.1 ms of a sample of 100 dumps). Prints each
# side's median CPU per dump and its samples, and their ratio.
# Everything stays on 127.0.0.1.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SHARED=${NETDUMP_SHARED:-$ROOT/../shared}
DLL=${1:?usage: bench/fixed_direct.sh NETDUMP_SERVER_DLL [SECOND_DLL]}
OTHER=${2:-}
SAMPLES=${SAMPLES:-8}
DUMPS=${DUMPS:-100}
WARM=${WARM:-40}
. "$ROOT/bench/cpu.sh"
. "$ROOT/bench/fresh_fs.sh"

work=$(mktemp -d /tmp/netdump-fixed.XXXXXX)
if [ -z "$OTHER" ]; then
	gcc -O2 -o "$work/ref_server" "$SHARED/bench/ref_server.c" || { echo "fixed_direct: cannot build the reference" >&2; exit 2; }
fi
# the yardstick's load generator, built from a copy whose size unit is the KiB, not the MiB (its
# only change: `--mib 64` sends 64 KiB); our own `simulate` client, a .NET process started per
# dump, paced a small dump differently and measured the same server a third dearer
sed 's/cfg\.mib << 20/cfg.mib << 10/g' "$SHARED/bench/fbsd_load.c" > "$work/fbsd_load_kib.c"
if ! grep -q 'cfg\.mib << 10' "$work/fbsd_load_kib.c" || grep -q 'cfg\.mib << 20' "$work/fbsd_load_kib.c" \
    || ! gcc -O2 -o "$work/fbsd_load_kib" "$work/fbsd_load_kib.c" -lm; then
	echo "fixed_direct: cannot build the load generator in KiB from $SHARED/bench/fbsd_load.c (its size is no longer 'cfg.mib << 20')" >&2
	exit 2
fi
fresh_fs "$work/fs" || echo "fixed_direct: the dumps stay in place under /tmp (bench/fresh_fs.sh)" >&2
mkdir -p "$work/fs/a" "$work/fs/b"
cgroups=/sys/fs/cgroup/cpuacct
[ -w "$cgroups" ] || cgroups=
for side in a b; do
	[ -n "$cgroups" ] && { rmdir "$cgroups/netdump-fixed-$side" 2> /dev/null; mkdir -p "$cgroups/netdump-fixed-$side" || cgroups=; }
done

# start SIDE PORT COMMAND...: a server in its own process group (and cgroup); its pid in pid_SIDE
start() {
	local side=$1 port=$2
	shift 2
	(
		[ -n "$cgroups" ] && echo $BASHPID > "$cgroups/netdump-fixed-$side/cgroup.procs"
		exec setsid "$@"
	) > "$work/$side.log" 2>&1 < /dev/null &
	eval "pid_$side=$!"
}
start a 20023 "$ROOT/bench/serve.sh" "$DLL" "$work/fs/a" 127.0.0.1 20023 "$work/rss-a" --http 127.0.0.1:0 --linux-port 0
if [ -n "$OTHER" ]; then
	start b 20033 "$ROOT/bench/serve.sh" "$OTHER" "$work/fs/b" 127.0.0.1 20033 "$work/rss-b" --http 127.0.0.1:0 --linux-port 0
	names=("ours" "other")
else
	start b 20033 "$work/ref_server" --quiet --dir "$work/fs/b" --addr 127.0.0.1 --port 20033
	names=("ours" "ref")
fi
trap 'kill -TERM -- "-$pid_a" "-$pid_b" 2> /dev/null; wait; fresh_fs_done "$work/fs"; exit 130' INT TERM
for _ in $(seq 300); do grep -q "Listening for netdump" "$work/a.log" && break; sleep 0.1; done
if [ -n "$OTHER" ]; then
	for _ in $(seq 300); do grep -q "Listening for netdump" "$work/b.log" && break; sleep 0.1; done
else
	for _ in $(seq 100); do ss -Hlun "sport = :20033" | grep -q . && break; sleep 0.1; done
fi

# used SIDE: the side's CPU in seconds so far
used() {
	if [ -n "$cgroups" ]; then
		python3 -c 'import sys; print(int(open(sys.argv[1]).read()) / 1e9)' "$cgroups/netdump-fixed-$1/cpuacct.usage"
	else
		cpu "$(eval echo "\$pid_$1")"
	fi
}
dump() { "$work/fbsd_load_kib" --clients 1 --mib 64 --server 127.0.0.1 --port "$1" --quiet > /dev/null 2>&1; }
for _ in $(seq "$WARM"); do dump 20023; dump 20033; done
for s in $(seq "$SAMPLES"); do
	order="a b"; [ $((s % 2)) = 0 ] && order="b a"
	for side in $order; do
		port=20023; [ "$side" = b ] && port=20033
		c0=$(used $side)
		for _ in $(seq "$DUMPS"); do dump $port; done
		c1=$(used $side)
		echo "$side $c0 $c1" >> "$work/samples"
	done
done
kill -TERM -- "-$pid_a" "-$pid_b" 2> /dev/null
wait 2> /dev/null
trap - INT TERM
fresh_fs_done "$work/fs"
[ -n "$cgroups" ] && rmdir "$cgroups/netdump-fixed-a" "$cgroups/netdump-fixed-b" 2> /dev/null
python3 - "$work/samples" "$DUMPS" "${names[0]}" "${names[1]}" "${cgroups:+cpuacct}" <<'PY'
import statistics, sys
path, dumps, names, clock = sys.argv[1], int(sys.argv[2]), {"a": sys.argv[3], "b": sys.argv[4]}, sys.argv[5] or "/proc"
by = {}
for line in open(path):
    side, c0, c1 = line.split()
    by.setdefault(side, []).append((float(c1) - float(c0)) * 1000 / dumps)
for side in ("a", "b"):
    v = sorted(by.get(side, []))
    if v:
        print(f"{names[side]}: CPU per 64 KiB dump {statistics.median(v):.2f} ms, median of {len(v)} samples of {dumps} dumps "
              f"({' '.join(f'{x:.2f}' for x in v)}; CPU from {clock})")
if by.get("a") and by.get("b"):
    print(f"{names['a']} / {names['b']}: {statistics.median(by['a']) / statistics.median(by['b']):.2f}")
PY
rm -rf "$work"
