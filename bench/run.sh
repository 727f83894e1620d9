#!/usr/bin/env bash
# bench/run.sh: builds netdump-server in Release and compares it with the C reference server
# (../shared/bench, run_perf.sh --vs-ref: reference and ours alternate under the same load) for
# 1, 8 and 64 clients at MTU 1500 and 8 clients at MTU 9000. Prints a markdown table: medians of
# the rounds, ratio, retransmits, server CPU seconds, our peak RSS.
#
#   bench/run.sh                         # 3 rounds of 128 MiB per client
#   ROUNDS=5 MIB=256 bench/run.sh
#   CONFIGS="8:1500" bench/run.sh        # only some configurations (clients:mtu)
#   ENGINE=managed bench/run.sh          # the fallback receive engine
#
# Everything stays on 127.0.0.0/8. Not part of the test run.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SHARED=${NETDUMP_SHARED:-$ROOT/../shared}
ROUNDS=${ROUNDS:-3}
MIB=${MIB:-128}
CONFIGS=${CONFIGS:-"1:1500 8:1500 64:1500 8:9000"}
ENGINE=${ENGINE:-batched}
OUT=${BENCH_OUT:-/tmp/netdump-bench-server}
export NUGET_CERT_REVOCATION_MODE=offline DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

[ -x "$SHARED/bench/run_perf.sh" ] || { echo "bench: $SHARED/bench/run_perf.sh not found (set NETDUMP_SHARED)" >&2; exit 2; }
case $(uname -m) in x86_64) RID=linux-x64 ;; aarch64) RID=linux-arm64 ;; *) RID= ;; esac
# ReadyToRun: precompiled, so no dump pays for the JIT (measured: 0.93x the reference with one
# client against 0.82x JIT-compiled; docs/performance.md)
rm -rf "$OUT"
dotnet publish "$ROOT/src/Netdump.App" -c Release ${RID:+-r $RID -p:PublishReadyToRun=true} --self-contained false \
    -o "$OUT" -v quiet -nologo >/dev/null || { echo "bench: build failed" >&2; exit 2; }
DLL=$OUT/netdump-server.dll
ENGINE_CONF=
if [ "$ENGINE" != batched ]; then
	ENGINE_CONF=$(mktemp /tmp/netdump-bench-engine.XXXXXX)
	echo "ingest_engine = $ENGINE" > "$ENGINE_CONF"
fi

echo "netdump-server vs C reference: $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, $ROUNDS rounds x $MIB MiB per client, engine $ENGINE"
echo
echo "| clients | MTU | ours MiB/s | ref MiB/s | ratio | retransmits (ours/ref) | failed clients | server CPU s (ours/ref) | our peak RSS MB |"
echo "|---|---|---|---|---|---|---|---|---|"
status=0
for config in $CONFIGS; do
	clients=${config%%:*} mtu=${config##*:}
	work=$(mktemp -d /tmp/netdump-bench.XXXXXX)
	extra="--concurrent $clients"
	[ -n "$ENGINE_CONF" ] && extra="$extra --config $ENGINE_CONF"
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
	[ -n "${KEEP:-}" ] || rm -rf "$work"
done
[ -n "$ENGINE_CONF" ] && rm -f "$ENGINE_CONF"
exit $status
