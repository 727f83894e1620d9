#!/usr/bin/env bash
# serve.sh DLL DIR ADDR PORT RSS_FILE [options...]: runs netdump-server for run_perf.sh and, when
# run_perf.sh stops it, writes its peak resident set (VmHWM, KiB) to RSS_FILE. Nothing polls
# while the server runs, so the server's CPU is all the process group spends.
set -u
dll=$1 dir=$2 addr=$3 port=$4 rss=$5
shift 5
# the settings file: NETDUMP_BENCH_CONF, else an empty one (no /etc/netdump.conf in the way)
conf=$(mktemp /tmp/netdump-bench-conf.XXXXXX)
[ -n "${NETDUMP_BENCH_CONF:-}" ] && cp "$NETDUMP_BENCH_CONF" "$conf"
# cache_dir = auto: the start-up profile (docs/operations.md) kept between bench runs in one known
# place, apart from an installed server's /var/cache/netdump-server; bench/storm.sh says whether
# one was there
export XDG_CACHE_HOME=${NETDUMP_BENCH_CACHE:-/var/tmp/netdump-bench-cache}
unset CACHE_DIRECTORY
dotnet "$dll" --dumpdir "$dir" --addr "$addr" --port "$port" --secure 0 --config "$conf" "$@" &
pid=$!
stop() {
	while read -r key value _; do
		[ "$key" = VmHWM: ] && echo "$value" > "$rss"
	done < "/proc/$pid/status"
	kill -TERM "$pid" 2>/dev/null
	wait "$pid"
	rm -f "$conf"
	exit 0
}
trap stop TERM INT
wait "$pid"
rm -f "$conf"
