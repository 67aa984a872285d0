#!/usr/bin/env bash
# udpcompare.sh — firebreak serve against rsyslog imudp, side by side, on loopback only.
#
# The same sender (firebreak gen --send … --duration, sendmmsg, paced by the clock) sends the
# scenario's ASA and IOS lines to `firebreak serve` (the embedded default policy, its listen
# addresses moved to free 127.0.0.1 ports) and to a foreground rsyslogd (imudp on 127.0.0.1,
# the same 64 MiB socket buffer, writing "%rawmsg%\n" to a file), one after the other, RUNS
# times. For each run it prints datagrams sent, received, lost (and the kernel's drop counter
# of the socket), and the receiver's CPU time (utime+stime from /proc/PID/stat, before the
# send and after the last message is through) per message. It never sends anywhere but
# 127.0.0.1. Not run by CI; needs rsyslogd (apt-get install rsyslog) and Go.
#
#   collector/testdata/udpcompare.sh                  # RATE=150000 SECS=30 RUNS=3
#   RATE=100000 SECS=10 RUNS=1 collector/testdata/udpcompare.sh
set -euo pipefail

RATE=${RATE:-150000}
SECS=${SECS:-30}
RUNS=${RUNS:-3}
FB_PORT=${FB_PORT:-25140}
RS_PORT=${RS_PORT:-25141}
HTTP_PORT=${HTTP_PORT:-28080}
BUF=${BUF:-64} # MiB: firebreak's default udp_read_buffer
FB_EXTRA=${FB_EXTRA:-} # more serve flags (e.g. --cpuprofile)

repo=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d /tmp/udpcompare.XXXXXX)
echo "work dir $work"
fbpid= rspid=
cleanup() {
	[ -n "$fbpid" ] && kill -INT "$fbpid" 2>/dev/null && wait "$fbpid" 2>/dev/null
	[ -n "$rspid" ] && kill "$rspid" 2>/dev/null && wait "$rspid" 2>/dev/null
	true
}
trap cleanup EXIT

(cd "$repo" && go build -o "$work/firebreak" ./cmd/firebreak)
fb=$work/firebreak

# firebreak: the embedded default policy with only its addresses and data folder changed.
sed -e "s|udp_listen: \":5140\"|udp_listen: 127.0.0.1:$FB_PORT|" \
	-e "s|tcp_listen: \":5140\"|tcp_listen: \"off\"|" \
	-e "s|http_listen: 127.0.0.1:8080|http_listen: 127.0.0.1:$HTTP_PORT|" \
	-e "s|data_dir: firebreak-data|data_dir: $work/fbdata|" \
	"$repo/policies/default.yaml" >"$work/site.yaml"
grep -q "127.0.0.1:$FB_PORT" "$work/site.yaml"

cat >"$work/rsyslog.conf" <<CONF
global(workDirectory="$work/rsdata")
module(load="impstats" interval="5" format="json" log.syslog="off" log.file="$work/impstats.json" resetCounters="off")
module(load="imudp")
template(name="raw" type="string" string="%rawmsg%\n")
ruleset(name="udp") { action(type="omfile" file="$work/rsyslog.out" template="raw") }
input(type="imudp" address="127.0.0.1" port="$RS_PORT" rcvbufSize="${BUF}m" ruleset="udp")
CONF
mkdir -p "$work/rsdata"

"$fb" serve --config "$work/site.yaml" $FB_EXTRA 2>"$work/serve.log" &
fbpid=$!
rsyslogd -n -f "$work/rsyslog.conf" -i "$work/rsyslog.pid" 2>"$work/rsyslog.log" &
rspid=$!

metric() { # metric NAME{LABELS} — the value from firebreak's /metrics, 0 when absent
	curl -s "http://127.0.0.1:$HTTP_PORT/metrics" | awk -v m="$1" '$1 == m { v = $2 } END { printf "%d\n", v + 0 }'
}
up() { curl -s "http://127.0.0.1:$HTTP_PORT/metrics" | grep -c '^firebreak_build_info{' >/dev/null; } # not -q: curl would get SIGPIPE
for _ in $(seq 300); do up && break; sleep 0.1; done
up || { echo "firebreak serve did not start:"; cat "$work/serve.log"; exit 1; }
grep -i warn "$work/serve.log" || true
for _ in $(seq 100); do [ -s "$work/rsyslog.pid" ] && break; sleep 0.1; done

cpu() { awk '{ print $14 + $15 }' "/proc/$1/stat"; } # clock ticks
hz=$(getconf CLK_TCK)
drops() { # drops PORT — the kernel's drop counter of the UDP socket bound to 127.0.0.1:PORT
	awk -v p="$(printf '0100007F:%04X' "$1")" '$2 == p { print $NF }' /proc/net/udp
}
fbgot() { metric 'firebreak_received_total{transport="udp"}'; }
fbparsed() {
	echo $(($(metric 'firebreak_parsed_total{kind="typed"}') + $(metric 'firebreak_parsed_total{kind="header"}') + $(metric 'firebreak_parsed_total{kind="unparsed"}')))
}
rsgot() { [ -f "$work/rsyslog.out" ] && wc -l <"$work/rsyslog.out" || echo 0; }
settle() { # settle CMD — wait until CMD's output stops changing for 2 s (the queues drained)
	local last=-1 cur still=0
	while [ $still -lt 4 ]; do
		cur=$($1)
		if [ "$cur" = "$last" ]; then still=$((still + 1)); else still=0; fi
		last=$cur
		sleep 0.5
	done
}

printf '%-9s %3s %9s %9s %7s %6s %10s %6s  %s\n' receiver run sent received lost kdrop cpu-ns/msg ratio "load average"
for run in $(seq "$RUNS"); do
	for who in firebreak rsyslog; do
		if [ $who = firebreak ]; then pid=$fbpid port=$FB_PORT got=fbparsed; else pid=$rspid port=$RS_PORT got=rsgot; fi
		settle $got
		[ $who = rsyslog ] && : >"$work/rsyslog.out" # rsyslog appends: keep the disk use to one run
		g0=$($got) d0=$(drops $port) c0=$(cpu $pid)
		out=$("$fb" gen --days 1 --seed $run --send "udp://127.0.0.1:$port" --rate "$RATE" --duration "${SECS}s")
		sent=$(echo "$out" | awk '{ print $2 }')
		settle $got
		g1=$($got) d1=$(drops $port) c1=$(cpu $pid)
		recv=$((g1 - g0))
		ns=$(awk -v c=$((c1 - c0)) -v hz="$hz" -v n="$recv" 'BEGIN { printf "%.0f", n ? c * 1e9 / hz / n : 0 }')
		if [ $who = firebreak ]; then fbns=$ns ratio=-; else ratio=$(awk -v a="$fbns" -v b="$ns" 'BEGIN { printf "%.2f", b ? a / b : 0 }'); fi
		printf '%-9s %3d %9d %9d %7d %6d %10d %6s  %s   (%s)\n' $who "$run" "$sent" "$recv" $((sent - recv)) $((d1 - d0)) "$ns" "$ratio" \
			"$(cut -d' ' -f1-3 /proc/loadavg)" "$(echo "$out" | grep -o '[0-9]* lines/s')"
	done
done
ss -u -a -m -n "( sport = :$FB_PORT or sport = :$RS_PORT )" || true
echo "firebreak received (metric): $(fbgot); rsyslog impstats (last):"
tail -n 20 "$work/impstats.json" | grep '"name": *"imudp' | tail -n 2 || true
