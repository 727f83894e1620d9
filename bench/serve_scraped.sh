#!/usr/bin/env bash
# serve_scraped.sh DLL DIR ADDR PORT RSS_FILE [options...]: serve.sh, with HTTP scraped as an
# operator's tools would while dumps arrive: /metrics and /api/sessions once a second (a
# Prometheus at 1 s, ten times its usual rate, and a dashboard open). SCRAPE=host:port names the
# HTTP address (the options must set --http to it). The scraper is in the server's process
# group, so its curl CPU counts against the server: the comparison errs against HTTP.
set -u
: "${SCRAPE:?SCRAPE=host:port}"
"$(dirname "$0")/serve.sh" "$@" &
server=$!
( while sleep 1; do
	curl -s -o /dev/null "http://$SCRAPE/metrics"
	curl -s -o /dev/null "http://$SCRAPE/api/sessions"
done ) &
scraper=$!
stop() {
	kill "$scraper" 2>/dev/null
	kill -TERM "$server" 2>/dev/null
	wait "$server"
	exit 0
}
trap stop TERM INT
wait "$server"
