#!/usr/bin/env bash
# Runs envctl's whole test suite on a fresh machine (this is the README's
# test command, and what CI runs):
#   1. installs the peer tools the tests compare against (kustomize v5.8.2,
#      kubeconform v0.8.0, sops v3.13.2), cached under $ENVCTL_TEST_BIN;
#   2. installs etcd and builds the real kube-apiserver that the cluster
#      tests run against (hack/ci-deps.sh; ~8 minutes the first time);
#   3. go vet, then go test ./... (extra arguments are passed to go test);
#   4. in CI (CI set), each fuzz target for $ENVCTL_FUZZTIME (default 60s):
#      the YAML alias/size guard, the envctl.yaml decoder, the drift
#      tree builder and the --live snapshot reader.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

export ENVCTL_TEST_BIN="${ENVCTL_TEST_BIN:-${XDG_CACHE_HOME:-$HOME/.cache}/envctl-test}"
tools="$ENVCTL_TEST_BIN/bin"
mkdir -p "$tools"

install_tool() { # name version package
	local bin="$tools/$1-$2"
	if [[ ! -x "$bin" ]]; then
		echo "test.sh: installing $1 $2" >&2
		local tmp
		tmp="$(mktemp -d)"
		GOBIN="$tmp" go install "$3@$2"
		mv "$tmp/$1" "$bin"
		rm -rf "$tmp"
	fi
	echo "$bin"
}

ENVCTL_KUSTOMIZE="$(install_tool kustomize v5.8.2 sigs.k8s.io/kustomize/kustomize/v5)"
ENVCTL_KUBECONFORM="$(install_tool kubeconform v0.8.0 github.com/yannh/kubeconform/cmd/kubeconform)"
# The sops CLI: SOPS files envctl writes must decrypt with it, and the
# files it writes with envctl (internal/secrets).
ENVCTL_SOPS="$(install_tool sops v3.13.2 github.com/getsops/sops/v3/cmd/sops)"
export ENVCTL_KUSTOMIZE ENVCTL_KUBECONFORM ENVCTL_SOPS

# The GitHub workflows the README tells users to copy must at least parse
# and type-check.
"$(install_tool actionlint v1.7.12 github.com/rhysd/actionlint/cmd/actionlint)" .github/workflows/*.yml

if [[ -f hack/ci-deps.sh ]]; then
	bash hack/ci-deps.sh
fi

go vet ./...
go test ./... "$@"

if [[ -n "${CI:-}" ]]; then
	fuzztime="${ENVCTL_FUZZTIME:-60s}"
	go test ./internal/yamlguard -run '^$' -fuzz '^FuzzCheck$' -fuzztime "$fuzztime"
	go test ./internal/repo -run '^$' -fuzz '^FuzzParseConfig$' -fuzztime "$fuzztime"
	go test ./internal/drift -run '^$' -fuzz '^FuzzCompare$' -fuzztime "$fuzztime"
	go test ./internal/live -run '^$' -fuzz '^FuzzReadSnapshot$' -fuzztime "$fuzztime"
fi
