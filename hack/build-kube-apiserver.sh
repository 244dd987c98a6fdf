#!/usr/bin/env bash
# Builds the kube-apiserver used by internal/testcluster and prints its path.
#
# The version is pinned in hack/kube-apiserver/go.mod (require k8s.io/kubernetes).
# The binary is cached as
#   ${ENVCTL_TEST_BIN:-${XDG_CACHE_HOME:-$HOME/.cache}/envctl-test}/kube-apiserver-<version>
# and the build is skipped when that file already exists, so running this
# script again is cheap. A cold build takes several minutes (about 8 on 2 cores).
#
# Usage: bash hack/build-kube-apiserver.sh        # prints the binary's path on stdout
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
mod="$here/kube-apiserver"

version="$(awk '$1 == "require" && $2 == "k8s.io/kubernetes" { print $3 }' "$mod/go.mod")"
if [[ -z "$version" ]]; then
	echo "build-kube-apiserver: cannot find 'require k8s.io/kubernetes vX.Y.Z' in $mod/go.mod" >&2
	exit 1
fi

bindir="${ENVCTL_TEST_BIN:-${XDG_CACHE_HOME:-${HOME:?set HOME or ENVCTL_TEST_BIN}/.cache}/envctl-test}"
bin="$bindir/kube-apiserver-$version"

if [[ -x "$bin" ]]; then
	echo "$bin"
	exit 0
fi

mkdir -p "$bindir"
tmp="$(mktemp "$bindir/.kube-apiserver-$version.XXXXXX")"
trap 'rm -f "$tmp"' EXIT

# Version stamping, as kubernetes' own hack/lib/version.sh does, so that
# /version and `kubectl version` report the pinned release.
major="${version#v}"; major="${major%%.*}"
minor="${version#v*.}"; minor="${minor%%.*}"
ldflags="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
	ldflags+=" -X $pkg.gitVersion=$version -X $pkg.gitMajor=$major -X $pkg.gitMinor=$minor"
	ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
done

echo "build-kube-apiserver: building k8s.io/kubernetes/cmd/kube-apiserver $version (several minutes when cold)..." >&2
start=$SECONDS
(
	cd "$mod"
	# -mod=mod: k8s.io/kubernetes is only usable through this module's replace
	# directives; let the go command fill in go.sum if an entry is missing.
	GOFLAGS="-mod=mod ${GOFLAGS:-}" CGO_ENABLED=0 \
		go build -trimpath -ldflags "$ldflags" -o "$tmp" k8s.io/kubernetes/cmd/kube-apiserver
)
chmod 0755 "$tmp"
mv -f "$tmp" "$bin"
trap - EXIT
echo "build-kube-apiserver: built $bin in $((SECONDS - start))s" >&2
echo "$bin"
