#!/usr/bin/env bash
# serve.sh DLL DIR ADDR PORT RSS_FILE [options...]: runs netdump-server for run_perf.sh and
# keeps writing its peak resident set (VmHWM, KiB) to RSS_FILE while it runs.
set -u
dll=$1 dir=$2 addr=$3 port=$4 rss=$5
shift 5
# the settings file: NETDUMP_BENCH_CONF, else an empty one (no /etc/netdump.conf in the way)
conf=$(mktemp /tmp/netdump-bench-conf.XXXXXX)
[ -n "${NETDUMP_BENCH_CONF:-}" ] && cp "$NETDUMP_BENCH_CONF" "$conf"
dotnet "$dll" --dumpdir "$dir" --addr "$addr" --port "$port" --secure 0 --config "$conf" "$@" &
pid=$!
trap 'kill -TERM $pid 2>/dev/null; wait $pid; rm -f "$conf"; exit 0' TERM INT
while kill -0 "$pid" 2>/dev/null; do
	awk '/^VmHWM/ { print $2 }' "/proc/$pid/status" > "$rss.tmp" 2>/dev/null && mv "$rss.tmp" "$rss"
	sleep 0.2
done
rm -f "$conf"
