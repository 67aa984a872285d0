#!/usr/bin/env bash
# Prints the release version from git tags: v1.2.3 -> 1.2.3; 1.2.3-4-gabc1234 after a tag;
# 0.0.0~git<date>.<commit> before the first tag. Used by check.sh and the Dockerfile's VERSION.
set -euo pipefail
cd "$(dirname "$0")/.."
if d=$(git describe --tags --match 'v[0-9]*' 2>/dev/null); then
	echo "${d#v}"
else
	echo "0.0.0~git$(git log -1 --format=%cd --date=format:%Y%m%d).$(git rev-parse --short=12 HEAD)"
fi
