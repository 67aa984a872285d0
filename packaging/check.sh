#!/usr/bin/env bash
# Packaging checks for CI: the systemd unit, sysusers and tmpfiles files, the Dockerfile (linted:
# no Docker daemon here), and the .deb (built with nfpm, then inspected and its binary run).
# Needs systemd-analyze, systemd-sysusers, systemd-tmpfiles and dpkg-deb (.ci/run installs them).
set -euo pipefail
cd "$(dirname "$0")/.."
NFPM=github.com/goreleaser/nfpm/v2/cmd/nfpm@v2.48.0
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "packaging: $*" >&2; exit 1; }

VERSION=$(packaging/version.sh)
export VERSION
export ARCH=$(go env GOARCH)
export BINARY="$work/firebreak"
CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=$VERSION" -o "$BINARY" ./cmd/firebreak

# systemd-analyze verify exits 0 on unknown keys and bad values, so any output is a failure.
# The unit names /usr/bin/firebreak; verify checks that it exists, so point it at the build.
sed "s#/usr/bin/firebreak#$BINARY#" packaging/systemd/firebreak.service > "$work/firebreak.service"
out=$(systemd-analyze verify --man=no "$work/firebreak.service" 2>&1) || fail "systemd-analyze verify: $out"
[ -z "$out" ] || fail "systemd-analyze verify: $out"
echo "packaging: systemd-analyze verify firebreak.service: ok"

# sysusers and tmpfiles applied to an empty root: the user exists and the folders get their modes.
root="$work/root"
mkdir -p "$root/etc" "$root/usr/lib/sysusers.d" "$root/usr/lib/tmpfiles.d"
cp packaging/systemd/firebreak.sysusers "$root/usr/lib/sysusers.d/firebreak.conf"
cp packaging/systemd/firebreak.tmpfiles "$root/usr/lib/tmpfiles.d/firebreak.conf"
systemd-sysusers --root="$root" >/dev/null
grep -q '^firebreak:' "$root/etc/passwd" || fail "sysusers did not create the firebreak user"
systemd-tmpfiles --root="$root" --create
[ "$(stat -c %a "$root/var/lib/firebreak")" = 750 ] || fail "tmpfiles: /var/lib/firebreak mode"
[ "$(stat -c %a "$root/etc/firebreak")" = 750 ] || fail "tmpfiles: /etc/firebreak mode"
echo "packaging: sysusers and tmpfiles: ok"

(cd packaging/dockerlint && go run . ../Dockerfile)

# nfpm expands the environment in version and arch but not in contents: substitute BINARY here.
sed "s#\${BINARY}#$BINARY#" packaging/nfpm.yaml > "$work/nfpm.yaml"
go run "$NFPM" package --config "$work/nfpm.yaml" --packager deb --target "$work/" >/dev/null
deb=$(ls "$work"/*.deb)
info=$(dpkg-deb --info "$deb")
grep -q "Version: $VERSION" <<<"$info" || fail "deb: version is not $VERSION"
listing=$(dpkg-deb --contents "$deb")
for f in ./usr/bin/firebreak ./usr/lib/systemd/system/firebreak.service ./usr/lib/sysusers.d/firebreak.conf \
	./usr/lib/tmpfiles.d/firebreak.conf ./usr/share/doc/firebreak/copyright; do
	grep -q " $f\$" <<<"$listing" || fail "deb: $f missing"
done
dpkg-deb --extract "$deb" "$work/extract"
got=$("$work/extract/usr/bin/firebreak" --version)
grep -q "$VERSION" <<<"$got" || fail "deb: binary says '$got', want $VERSION"
echo "packaging: $(basename "$deb"): ok ($got)"
