#!/usr/bin/env bash
# bench/run.sh: builds netdump-server in Release and compares it with the C reference server
# (../shared/bench, run_perf.sh --vs-ref: reference and ours alternate under the same load) for
# 1, 8 and 64 clients at MTU 1500 and 8 clients at MTU 9000. Prints a markdown table: medians of
# the rounds, ratio, retransmits, server CPU seconds, our peak RSS. Then the cost per byte against
# dump size, and the Linux dialect's rows (LINUX_CONFIGS, below).
#
#   bench/run.sh                         # 3 rounds of 128 MiB per client
#   ROUNDS=5 MIB=256 bench/run.sh
#   CONFIGS="8:1500" bench/run.sh        # only some configurations (clients:mtu); CONFIGS= none
#   ENGINE=managed bench/run.sh          # the fallback receive engine
#   SIZES="16 128 1024" (default)        # the cost-per-byte table: 1 client, one warm server
#   SIZES= bench/run.sh                  # skip it
#   FIXED_CHUNKS=6 (default)             # the fixed-cost line: pairs of 32 x 1 MiB and 4 x 8 MiB per server
#   FIXED_SAMPLES=8 (default)            # then a 64 KiB dump's CPU, ours against the reference (bench/fixed_direct.sh)
#   SIZE_BATCH_MIB=256 (default)         # each size-table measurement: dumps back to back up to this many MiB
#                                        # (the size table ends with the file work alone, bench/layout_floor.c)
#   LINUX_CONFIGS="1 8" (default)        # the Linux dialect rows (clients): our own `simulate --dialect linux`
#                                        # clients (fbsd_load speaks only FreeBSD) against as many of our own
#                                        # FreeBSD `simulate` clients, alternating on one server; LINUX_CONFIGS= none
#   STORMS="64:16 128:8 200:4" (default) # crash storms of small machines (clients:MiB each), bench/storm.sh:
#                                        # HERALD-to-ack latency, retransmits, CPU, threads, RSS; STORMS= none
#   BENCH_KEEP=1 bench/run.sh            # keep each configuration's runs.jsonl and logs in /tmp
#
# Everything stays on 127.0.0.0/8. Not part of the test run.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SHARED=${NETDUMP_SHARED:-$ROOT/../shared}
ROUNDS=${ROUNDS:-3}
MIB=${MIB:-128}
CONFIGS=${CONFIGS-"1:1500 8:1500 64:1500 8:9000"}
ENGINE=${ENGINE:-batched}
OUT=${BENCH_OUT:-/tmp/netdump-bench-server}

[ -x "$SHARED/bench/run_perf.sh" ] || { echo "bench: $SHARED/bench/run_perf.sh not found (set NETDUMP_SHARED)" >&2; exit 2; }
. "$ROOT/bench/publish.sh"
publish_server "$OUT"
ENGINE_CONF=
if [ "$ENGINE" != batched ]; then
	ENGINE_CONF=$(mktemp /tmp/netdump-bench-engine.XXXXXX)
	echo "ingest_engine = $ENGINE" > "$ENGINE_CONF"
	export NETDUMP_BENCH_CONF=$ENGINE_CONF
fi

echo "netdump-server vs C reference: $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, $ROUNDS rounds x $MIB MiB per client, engine $ENGINE"
echo
echo "| clients | MTU | ours MiB/s | ref MiB/s | ratio | retransmits (ours/ref) | failed clients | server CPU s (ours/ref) | our peak RSS MB |"
echo "|---|---|---|---|---|---|---|---|---|"
status=0
. "$ROOT/bench/cpu.sh"
for config in $CONFIGS; do
	clients=${config%%:*} mtu=${config##*:}
	work=$(mktemp -d /tmp/netdump-bench.XXXXXX)
	extra="--concurrent $clients"
	cmd="$ROOT/bench/serve.sh $DLL {dir} {addr} {port} {dir}/../peak_rss_kb $extra"
	"$SHARED/bench/run_perf.sh" --vs-ref --clients "$clients" --mib "$MIB" --mtu "$mtu" \
	    --rounds "$ROUNDS" --work-dir "$work" --server-cmd "$cmd" > "$work/runs.jsonl" 2> "$work/stderr.log" || status=1
	python3 - "$work" "$clients" "$mtu" <<'PY'
import glob, json, os, statistics, sys
work, clients, mtu = sys.argv[1:]
runs = [json.loads(l) for l in open(os.path.join(work, "runs.jsonl")) if l.strip()]
summary = next((r for r in runs if r.get("summary") == "vs-ref"), None)
def side(label):
    return [r for r in runs if r.get("server") == label]
def med(rs, key):
    v = [r.get(key, 0) for r in rs]
    return statistics.median(v) if v else 0
ours, ref = side("target"), side("ref")
rss = [int(open(p).read() or 0) for p in glob.glob(os.path.join(work, "run*", "peak_rss_kb"))]
failed = sum(max(r.get("failed_clients", 0), 0) for r in ours) + sum(1 for r in ours if r.get("error"))
if summary is None:
    print(f"| {clients} | {mtu} | error: see {work}/stderr.log | | | | | | |")
    sys.exit(0)
print(f"| {clients} | {mtu} | {summary['target_median_mib_s']:.1f} | {summary['ref_median_mib_s']:.1f} | "
      f"**{summary['ratio_target_over_ref']:.2f}** | {sum(r.get('retransmits', 0) for r in ours)}/{sum(r.get('retransmits', 0) for r in ref)} | "
      f"{failed} | {med(ours, 'server_cpu_s'):.2f}/{med(ref, 'server_cpu_s'):.2f} | {max(rss) / 1024 if rss else 0:.0f} |")
PY
	[ -n "${BENCH_KEEP:-}" ] || rm -rf "$work"
done
# cost per byte against dump size, in one running server (as in production: a warm-up dump,
# then dumps of each size one after the other), CPU read from /proc around each dump. The
# reference runs beside it on another port, and every round loads both with every size in
# turn, so a change in the machine's speed over the run shows in both columns alike.
SIZES=${SIZES-"16 128 1024"}
SIZE_BATCH_MIB=${SIZE_BATCH_MIB:-256}
if [ -n "$SIZES" ]; then
	echo
	echo "| dump MiB (1 client, warm server, $SIZE_BATCH_MIB MiB of dumps back to back per measurement) | ours MiB/s (median) | ref MiB/s (median) | ours CPU s per GiB (median) | ref CPU s per GiB (median) | runs |"
	echo "|---|---|---|---|---|---|"
	work=$(mktemp -d /tmp/netdump-bench.XXXXXX)
	# both servers' dumps on a file system made for this table, kept until its end: deleting
	# each batch's dumps made the next batch's file creation scan past the freed inodes
	# (bench/fresh_fs.sh), a cost of the bench that fell on the server making more files
	. "$ROOT/bench/fresh_fs.sh"
	# what the table writes when nothing is deleted: each size's batches, both servers, every
	# round, and the fixed-cost pairs; without that much room in /var/tmp each batch's dumps
	# are deleted after it, as before
	keep=1 needed=0
	for mib in $SIZES; do needed=$((needed + (mib > SIZE_BATCH_MIB ? mib : SIZE_BATCH_MIB) * 2 * ROUNDS)); done
	needed=$((needed + ${FIXED_CHUNKS:-6} * 2 * 64 + 16))
	if ! fresh_fs_room "$needed"; then
		keep=0
		echo "bench: /var/tmp has less than $needed MiB free: the size table deletes each batch's dumps (bench/fresh_fs.sh)" >&2
	fi
	fresh_fs "$work/fs" || echo "bench: the size table's dumps stay in place under /tmp (bench/fresh_fs.sh)" >&2
	dumps=$work/fs/dumps refdumps=$work/fs/ref
	mkdir -p "$dumps" "$refdumps"
	port=20023 refport=20033
	ours= ref=
	# an interrupted table leaves neither its servers nor its file system behind
	trap 'kill -TERM -- ${ours:+"-$ours"} ${ref:+"-$ref"} 2> /dev/null; wait; fresh_fs_done "$work/fs"; exit 130' INT TERM
	setsid "$ROOT/bench/serve.sh" "$DLL" "$dumps" 127.0.0.1 $port "$work/peak_rss_kb" > "$work/server.log" 2>&1 &
	ours=$!
	setsid /tmp/netdump-bench-build/ref_server --dir "$refdumps" --addr 127.0.0.1 --port $refport --quiet > "$work/ref.log" 2>&1 &
	ref=$!
	for _ in $(seq 100); do grep -q "Listening for netdump" "$work/server.log" && break; sleep 0.1; done
	load() { /tmp/netdump-bench-build/fbsd_load --clients 1 --mib "$2" --server 127.0.0.1 --port "$1" --quiet; }
	# batch SIDE MIB COUNT: COUNT dumps of MIB MiB back to back on one server (ours or ref); its
	# CPU before and after in c0 and c1, the load generator's lines in $work/batch
	batch() {
		local pg p dir
		if [ "$1" = ours ]; then pg=$ours p=$port dir=$dumps; else pg=$ref p=$refport dir=$refdumps; fi
		: > "$work/batch"
		c0=$(cpu $pg)
		for _ in $(seq "$3"); do load $p "$2" >> "$work/batch"; done
		c1=$(cpu $pg)
		[ "$keep" = 1 ] || rm -rf "$dir"/127.*
	}
	# warm-up: first-use costs of a fresh process are not per byte
	load $port 8 > /dev/null; load $refport 8 > /dev/null
	# each round turns the order of the sizes and of the two servers, so that neither a size nor
	# a server always follows the same batch (the first server of a round measured about 1 ms
	# more per dump whichever it was; docs/performance.md)
	sizes=($SIZES)
	for r in $(seq "$ROUNDS"); do
		order="ours ref"; [ $((r % 2)) = 0 ] && order="ref ours"
		for k in "${!sizes[@]}"; do
			mib=${sizes[$(( (k + r - 1) % ${#sizes[@]} ))]}
			for side in $order; do
				# dumps of this size back to back, SIZE_BATCH_MIB in all (at least one): the CPU
				# clock ticks 10 ms, a sixth of a 16 MiB dump's CPU
				reps=$(( SIZE_BATCH_MIB / mib )); [ "$reps" -ge 1 ] || reps=1
				batch $side "$mib" "$reps"
				python3 -c 'import json,sys
runs=[json.loads(l) for l in open(sys.argv[1]) if l.strip()]
wall=sum(r.get("wall_s",0) for r in runs); total=sum(r.get("total_mib",0) for r in runs)
d={"side":sys.argv[4],"dumps":len(runs),"total_mib":total,"aggregate_mib_s":total/wall if wall else 0,
   "failed_clients":sum(r.get("failed_clients",0) for r in runs),"server_cpu_s":float(sys.argv[3])-float(sys.argv[2])}
print(json.dumps(d))' "$work/batch" "$c0" "$c1" $side >> "$work/size-$mib.jsonl" || status=1
			done
		done
	done
	# the fixed cost measured directly: the same bytes as many small dumps and as a few larger
	# ones, so the cost of the bytes cancels: (CPU of 32 x 1 MiB - CPU of 4 x 8 MiB) / 28 dumps.
	# FIXED_CHUNKS pairs, alternating between the servers (the CPU clock ticks 10 ms)
	FIXED_CHUNKS=${FIXED_CHUNKS:-6}
	for chunk in $(seq "$FIXED_CHUNKS"); do
		order="ours ref"; [ $((chunk % 2)) = 0 ] && order="ref ours"
		for side in $order; do
			batch $side 1 32; small0=$c0 small1=$c1
			batch $side 8 4
			echo "$side $small0 $small1 $c0 $c1" >> "$work/fixed"
		done
	done
	# the table's rows; the cost of each further byte between consecutive sizes, and the last
	# step's against the first (does a byte cost more in a bigger dump?); each size's CPU per
	# byte over the largest size's in the same round (paired, so a slow minute of the machine
	# cancels), median and range over the rounds; the fixed cost per dump from $work/fixed
	python3 - "$work" $SIZES <<'PY'
import json, statistics, sys
work, sizes = sys.argv[1], [int(m) for m in sys.argv[2:]]
sides = ("ours", "ref")
def rounds(mib, side):
    """each round's result in order: (MiB/s, CPU s per GiB), None for a round with a failure"""
    runs = [json.loads(l) for l in open(f"{work}/size-{mib}.jsonl") if l.strip()]
    return [(r["aggregate_mib_s"], r["server_cpu_s"] / r["total_mib"] * 1024)
            if r.get("aggregate_mib_s") and not r.get("failed_clients") else None
            for r in runs if r["side"] == side]
def medians(mib, side):
    all_rounds = rounds(mib, side)
    ok = [r for r in all_rounds if r]
    rate = statistics.median(r[0] for r in ok) if ok else 0
    cpu = statistics.median(r[1] for r in ok) if ok else 0
    return rate, cpu, f"{len(ok)}/{len(all_rounds)}"
cpu = {}
for mib in sizes:
    (orate, ocpu, on), (rrate, rcpu, rn) = medians(mib, "ours"), medians(mib, "ref")
    cpu[mib] = {"ours": ocpu, "ref": rcpu}
    print(f"| {mib} | {orate:.1f} | {rrate:.1f} | {ocpu:.2f} | {rcpu:.2f} | {on} ours, {rn} ref |")
print()
for side in sides:
    steps = [(a, b, (cpu[b][side] * b - cpu[a][side] * a) / (b - a)) for a, b in zip(sizes, sizes[1:])]
    text = ", ".join(f"{a}->{b} MiB {c:.2f}" for a, b, c in steps)
    if len(steps) > 1 and steps[0][2] > 0:
        text += f"; the last step against the first {steps[-1][2] / steps[0][2] - 1:+.0%}"
    print(f"{side}: CPU s per further GiB {text}")
print()
for side in sides:
    top = rounds(sizes[-1], side)
    parts = []
    for mib in sizes[:-1]:
        ratios = [a[1] / b[1] for a, b in zip(rounds(mib, side), top) if a and b and b[1]]
        if ratios:
            parts.append(f"{mib} MiB {statistics.median(ratios) - 1:+.0%} ({min(ratios) - 1:+.0%} to {max(ratios) - 1:+.0%})")
    print(f"{side}: CPU per byte against {sizes[-1]} MiB dumps in the same round, median (range) of {len(top)} rounds: " + ", ".join(parts))
fixed = {}
for line in open(f"{work}/fixed"):
    side, s0, s1, b0, b1 = line.split()
    # 32 dumps of 1 MiB and 4 of 8 MiB carry the same bytes: the difference is 28 dumps' fixed cost
    fixed.setdefault(side, []).append(((float(s1) - float(s0)) - (float(b1) - float(b0))) * 1000 / 28)
print()
for side in sides:
    values = fixed.get(side, [])
    if not values:
        continue
    per_dump = statistics.median(values)
    # what that adds to each byte of the smallest size, against the largest size's CPU per byte
    per_mib = cpu[sizes[-1]][side] * 1000 / 1024
    print(f"{side}: fixed CPU per dump {per_dump:.1f} ms (32 dumps of 1 MiB against 4 of 8 MiB, median of {len(values)} pairs: "
          f"{' '.join(f'{v:.1f}' for v in values)}), {per_dump / (sizes[0] * per_mib):+.0%} on each byte of a {sizes[0]} MiB dump "
          f"at the {sizes[-1]} MiB cost per byte")
PY
	kill -TERM -- "-$ours" "-$ref" 2>/dev/null; wait "$ours" "$ref" 2>/dev/null
	trap - INT TERM
	fresh_fs_done "$work/fs" || status=1
	# the part of the fixed cost the disk layout makes unavoidable: the same file work in C,
	# without data (bench/layout_floor.c), 200 dumps per side, 3 alternating rounds, medians
	if command -v cc > /dev/null && cc -O2 -o "$work/layout_floor" "$ROOT/bench/layout_floor.c"; then
		for _ in 1 2 3; do
			for layout in ours ref; do
				rm -rf "$work/floor"; mkdir "$work/floor"
				if ms=$("$work/layout_floor" "$work/floor" 200 $layout); then echo "$layout $ms" >> "$work/floor.txt"; else status=1; fi
			done
		done
		[ -s "$work/floor.txt" ] && python3 - "$work/floor.txt" <<'PY'
import statistics, sys
by = {}
for line in open(sys.argv[1]):
    layout, ms = line.split()
    by.setdefault(layout, []).append(float(ms))
def median(layout):
    return f"{statistics.median(by[layout]):.2f} ms" if layout in by else "failed"
print(f"file work alone (C, no data): our layout {median('ours')} CPU per dump, the reference's {median('ref')} (bench/layout_floor.c)")
PY
	fi
	[ -n "${BENCH_KEEP:-}" ] || rm -rf "$work"
	# the fixed cost measured directly: a 64 KiB dump's CPU (its fixed cost and 64 KiB of
	# bytes), whose samples move by a tenth where the difference above moves by a millisecond
	FIXED_SAMPLES=${FIXED_SAMPLES:-8}
	if [ "$FIXED_SAMPLES" -gt 0 ]; then
		echo
		SAMPLES=$FIXED_SAMPLES bash "$ROOT/bench/fixed_direct.sh" "$DLL" || status=1
	fi
fi

# the Linux dialect (SPEC §7): the server pulls each page with SEND_MEM and the client answers
# with four 1 KiB REPLY_MEMs. fbsd_load and the C reference speak only FreeBSD, so both columns
# come from our own simulated clients (`simulate`, bench/simulate_load.py): N Linux clients and
# N FreeBSD ones (MTU 1500) in turn on one server, whose CPU is read from /proc around each
# batch. The simulated clients share this machine's cores with the server; their CPU is shown.
LINUX_CONFIGS=${LINUX_CONFIGS-"1 8"}
if [ -n "$LINUX_CONFIGS" ]; then
	echo
	echo "| Linux clients | Linux MiB/s | without the 0.5 s console wait | FreeBSD MiB/s (simulate) | ratio | requests repeated | failed clients (Linux/FreeBSD) | server CPU s (Linux/FreeBSD) | client CPU s (Linux/FreeBSD) | peak RSS MB |"
	echo "|---|---|---|---|---|---|---|---|---|---|"
fi
for clients in $LINUX_CONFIGS; do
	work=$(mktemp -d /tmp/netdump-bench.XXXXXX)
	mkdir -p "$work/dumps"
	port=20123 lport=20166
	setsid "$ROOT/bench/serve.sh" "$DLL" "$work/dumps" 127.0.0.1 $port "$work/peak_rss_kb" \
	    --linux-port $lport --concurrent "$clients" > "$work/server.log" 2>&1 &
	server=$!
	for _ in $(seq 100); do grep -q "Listening for Linux" "$work/server.log" && break; sleep 0.1; done
	# batch DIALECT MIB: one batch of $clients dumps at once, a JSON line with the server's CPU
	batch() {
		local p=$port c0 c1 line
		[ "$1" = linux ] && p=$lport
		c0=$(cpu $server)
		line=$(python3 "$ROOT/bench/simulate_load.py" "$DLL" "$1" $p "$clients" "$2") || status=1
		c1=$(cpu $server)
		rm -rf "$work/dumps"/127.*
		python3 -c 'import json,sys; d=json.loads(sys.argv[1]); d["server_cpu_s"]=float(sys.argv[3])-float(sys.argv[2]); print(json.dumps(d))' "$line" "$c0" "$c1"
	}
	batch linux 8 > /dev/null; batch freebsd 8 > /dev/null # warm-up
	for r in $(seq "$ROUNDS"); do
		order="linux freebsd"; [ $((r % 2)) = 0 ] && order="freebsd linux"
		for dialect in $order; do batch $dialect "$MIB" >> "$work/runs.jsonl"; done
	done
	kill -TERM -- "-$server" 2>/dev/null; wait "$server" 2>/dev/null
	python3 - "$work" "$clients" <<'PY'
import json, os, statistics, sys
work, clients = sys.argv[1:]
runs = [json.loads(l) for l in open(os.path.join(work, "runs.jsonl")) if l.strip()]
def side(dialect):
    return [r for r in runs if r["dialect"] == dialect]
def med(rs, f):
    return statistics.median(f(r) for r in rs) if rs else 0
linux, bsd = side("linux"), side("freebsd")
# each Linux dump ends with LinuxPull.QuietTime (0.5 s) of waiting for console text after SHOW_STATE
quiet = med(linux, lambda r: r["total_mib"] / max(r["wall_s"] - 0.5, 0.01))
lrate, brate = med(linux, lambda r: r["mib_s"]), med(bsd, lambda r: r["mib_s"])
rss = open(os.path.join(work, "peak_rss_kb")).read().strip() if os.path.exists(os.path.join(work, "peak_rss_kb")) else ""
print(f"| {clients} | {lrate:.1f} | {quiet:.1f} | {brate:.1f} | **{lrate / brate if brate else 0:.2f}** | "
      f"{sum(r['repeats'] for r in linux)} | {sum(r['failed_clients'] for r in linux)}/{sum(r['failed_clients'] for r in bsd)} | "
      f"{med(linux, lambda r: r['server_cpu_s']):.2f}/{med(bsd, lambda r: r['server_cpu_s']):.2f} | "
      f"{med(linux, lambda r: r['client_cpu_s']):.2f}/{med(bsd, lambda r: r['client_cpu_s']):.2f} | "
      f"{int(rss) / 1024 if rss else 0:.0f} |")
PY
	[ -n "${BENCH_KEEP:-}" ] || rm -rf "$work"
done

# crash storms of small machines (issue 19): many clients at once, each against the reference
STORMS=${STORMS-"64:16 128:8 200:4"}
if [ -n "$STORMS" ]; then
	echo
	echo "Crash storms ($ROUNDS rounds, alternating; medians; HERALD-to-ack over every client of every round):"
	echo
	STORMS="$STORMS" ROUNDS="$ROUNDS" "$ROOT/bench/storm.sh" "$DLL" || status=1
fi

[ -n "$ENGINE_CONF" ] && rm -f "$ENGINE_CONF"
exit $status
