#!/bin/sh
# screenshots.sh: look at the dashboard the way a person would. Generates the 30-day clinic
# scenario (README "A tour"), ingests it, runs the detections day by day and the proposals,
# files its lines in the raw archive (for the drill-down), starts the daemon with syslog and
# the dashboard on 127.0.0.1 only, and saves headless-Chromium screenshots of the front page at
# 24 h, 7 d and 30 d, of two drill-downs (the busiest hour of the last 24 h, the busiest day of
# the last 7 d), of the denied-traffic panels and of the findings page. Not run by CI.
#
#   detect/report/screenshots.sh [OUT_DIR] [--port 18480] [--keep]
#
# OUT_DIR defaults to ./screens. Installs Debian chromium with apt-get when missing. Needs go,
# curl and jq. The daemon is stopped (by its pid) at the end; --keep leaves the scenario folder.
set -eu

usage() { echo "usage: $0 [OUT_DIR] [--port N] [--keep]" >&2; exit 2; }
out=screens
port=18480
keep=
while [ $# -gt 0 ]; do
	case $1 in
	--port) [ $# -ge 2 ] || usage; port=$2; shift 2 ;;
	--keep) keep=1; shift ;;
	-*) usage ;;
	*) out=$1; shift ;;
	esac
done
mkdir -p "$out"
out=$(cd "$out" && pwd)
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"

browser=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$browser" ]; then
	echo "installing chromium..." >&2
	apt-get install -y chromium >/dev/null
	browser=$(command -v chromium)
fi

work=$(mktemp -d)
profile=$(mktemp -d)
pid=
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
	rm -rf "$profile"
	if [ -z "$keep" ]; then rm -rf "$work"; else echo "scenario kept in $work" >&2; fi
}
trap cleanup EXIT INT TERM

fb="$work/firebreak"
go build -o "$fb" ./cmd/firebreak
"$fb" gen --days 30 --seed 7 --out "$work/clinic" >/dev/null
site="$work/clinic/site.yaml"
# The daemon of this script: its own data folder, TCP syslog and the dashboard on loopback
# ports of its own.
sed -i "s|^  data_dir: data$|  data_dir: $work/clinic/data\n  udp_listen: \"off\"\n  tcp_listen: 127.0.0.1:$((port + 1))\n  http_listen: 127.0.0.1:$port|" "$site"
"$fb" ingest --config "$site" "$work/clinic/asa1.log" "$work/clinic/routers.log"
go run ./detect/report/testdata/screens "$site" "$work/clinic/data/raw" "$work/clinic/asa1.log" "$work/clinic/routers.log"
# Detections day by day over the scenario, as the daemon's schedule would have run them.
today=$(date +%F)
d=30
while [ $d -ge 0 ]; do
	"$fb" detect --config "$site" --at "$(date -d "$today - $d days" +%F)" >/dev/null
	d=$((d - 1))
done
"$fb" propose --config "$site" >/dev/null || true

"$fb" serve --config "$site" --log-level warn 2>"$work/serve.log" &
pid=$!
base="http://127.0.0.1:$port"
i=0
until curl -fsS "$base/healthz" >/dev/null 2>&1; do
	i=$((i + 1))
	[ $i -lt 100 ] || { echo "$0: the daemon did not answer on $base" >&2; cat "$work/serve.log" >&2; exit 1; }
	sleep 0.2
done

shot() { # FILE PATH [HEIGHT]
	"$browser" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
		--disable-background-networking --disable-component-update --disable-sync \
		--hide-scrollbars --user-data-dir="$profile" --window-size="1400,${3:-1800}" \
		--screenshot="$out/$1" "$base$2" 2>/dev/null
	echo "$out/$1  $base$2"
}

shot front-24h.png "/?range=24h"
shot front-7d.png "/?range=7d"
shot front-30d.png "/?range=30d"
# The drill-down of the busiest hour of the last 24 h, as its bar links it.
bar=$(curl -fsS "$base/?range=24h&format=json" | jq -r '.activity.bars | max_by(.bytes) | "from=\(.from)&to=\(.to)"' | sed 's/+/%2B/g')
shot drilldown.png "/window?range=custom&$bar" 2600
# The drill-down of the busiest day of the last 7 days: its hours, clickable in turn.
day=$(curl -fsS "$base/?range=7d&format=json" | jq -r '.activity.bars | max_by(.bytes) | "from=\(.from)&to=\(.to)"' | sed 's/+/%2B/g')
shot drilldown-day.png "/window?range=custom&$day" 2600
shot denied.png "/denied?range=7d"
shot findings-7d.png "/findings?range=7d&severity=high"
# The figures shown, for the notes that go with the screenshots.
for r in 24h 7d 30d; do
	t=$(curl -fsS -o /dev/null -w '%{time_total}' "$base/?range=$r&refresh=1")
	echo "$r: front page built and served in ${t}s"
	curl -fsS "$base/?range=$r&format=json" | jq -r --arg r "$r" \
		'"\($r): \(.activity.bars|length) bars, \(.activity.totals.bytes) bytes, \(.activity.totals.conns) connections, \(.denied.total) denies from \(.denied.source_count) sources, \(.findings.new|length) new + \(.findings.ongoing|length) ongoing findings"'
done
curl -fsS "$base/window?range=custom&$bar&format=json" | jq -r '"drill-down \(.window.from) to \(.window.to): \(.host_count) hosts, \(.peer_count) peers, \(.lines.lines|length) raw lines on page 1 (more: \(.lines.more)), \(.lines.scanned) archived lines read"'
