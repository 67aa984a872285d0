#!/bin/sh
# Compare the parser's stream benchmarks between two commits on a quiet machine:
#   sh collector/ciscolog/testdata/benchcmp.sh [OLD [NEW [ROUNDS]]]
# It builds the package's test binary at each commit (with NEW's bench_test.go, so both run the
# same benchmarks, BenchmarkParseIOS included) and alternates them ROUNDS times, printing the
# load beside every run. Defaults: OLD=9095ca8 (before issue 14's IOS stamp cache), NEW=HEAD, 5.
set -eu
old=${1:-9095ca8} new=${2:-HEAD} rounds=${3:-5}
root=$(git rev-parse --show-toplevel)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for v in old new; do
	eval rev=\$$v
	mkdir "$tmp/$v"
	git -C "$root" archive "$rev" | tar -x -C "$tmp/$v"
	git -C "$root" show "$new:collector/ciscolog/bench_test.go" >"$tmp/$v/collector/ciscolog/bench_test.go"
	(cd "$tmp/$v" && go test -c -o "$tmp/$v.test" ./collector/ciscolog)
done
i=1
while [ "$i" -le "$rounds" ]; do
	for v in old new; do
		echo "## $v round $i, $(uptime | sed 's/.*load/load/')"
		"$tmp/$v.test" -test.run XXX -test.bench 'ParseMixed$|ParseIOS$|ParseMixedOwnSecond$|ParseMixedOwnMinute$' -test.benchmem | grep '^Benchmark'
	done
	i=$((i + 1))
done
