#!/bin/sh
# render-report.sh: look at an HTML report the way a person would. Renders it with headless
# Debian chromium to a PNG (and, with --pdf, to a PDF and one PNG per page via pdftoppm).
#
#   detect/report/render-report.sh REPORT.html [OUT.png] [--pdf OUT.pdf] [--width 1280] [--height 4000]
#
# Installs chromium (and poppler-utils for pdftoppm) with apt-get when missing. The browser
# runs with a throw-away profile and every background network feature off; the report itself
# is self-contained, so nothing is fetched.
set -eu

usage() { echo "usage: $0 REPORT.html [OUT.png] [--pdf OUT.pdf] [--width W] [--height H]" >&2; exit 2; }

[ $# -ge 1 ] || usage
in=$1; shift
out=
pdf=
width=1280
height=4000
while [ $# -gt 0 ]; do
	case $1 in
	--pdf) [ $# -ge 2 ] || usage; pdf=$2; shift 2 ;;
	--width) [ $# -ge 2 ] || usage; width=$2; shift 2 ;;
	--height) [ $# -ge 2 ] || usage; height=$2; shift 2 ;;
	-*) usage ;;
	*) out=$1; shift ;;
	esac
done
[ -f "$in" ] || { echo "$0: $in: no such file" >&2; exit 1; }
[ -n "$out" ] || out=${in%.html}.png

browser=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$browser" ]; then
	echo "installing chromium..." >&2
	apt-get install -y chromium >/dev/null
	browser=$(command -v chromium)
fi

abs=$(cd "$(dirname "$in")" && pwd)/$(basename "$in")
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT INT TERM

run() {
	"$browser" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
		--disable-background-networking --disable-component-update --disable-sync \
		--disable-extensions --disable-default-apps --hide-scrollbars \
		--user-data-dir="$profile" "$@" "file://$abs" 2>/dev/null
}

run --screenshot="$out" --window-size="$width,$height"
echo "$out"

if [ -n "$pdf" ]; then
	run --print-to-pdf="$pdf" --no-pdf-header-footer
	echo "$pdf"
	if ! command -v pdftoppm >/dev/null; then
		apt-get install -y poppler-utils >/dev/null || true
	fi
	if command -v pdftoppm >/dev/null; then
		pdftoppm -r 60 -png "$pdf" "${pdf%.pdf}-page"
		ls "${pdf%.pdf}"-page*.png
	fi
fi
