#!/usr/bin/env bash
# Installs what internal/testcluster needs: etcd (Debian's etcd-server, only
# when no etcd is on PATH and $ENVCTL_ETCD is unset) and kube-apiserver (built
# and cached by hack/build-kube-apiserver.sh). Run as root in CI; idempotent
# and quick when both are already there.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

if [[ -z "${ENVCTL_ETCD:-}" ]] && ! command -v etcd >/dev/null 2>&1; then
	echo "ci-deps: installing etcd-server" >&2
	sudo=""
	if [[ "$(id -u)" != 0 ]]; then
		sudo="sudo"
	fi
	export DEBIAN_FRONTEND=noninteractive
	$sudo apt-get update -qq
	# Debian's postinst may try to start the etcd service; that does not
	# matter (no systemd in containers): the tests start their own etcd.
	$sudo apt-get install -y -qq --no-install-recommends etcd-server >&2
fi
echo "ci-deps: etcd: ${ENVCTL_ETCD:-$(command -v etcd)} ($("${ENVCTL_ETCD:-etcd}" --version | head -1))" >&2

bin="$(bash "$here/build-kube-apiserver.sh")"
echo "ci-deps: kube-apiserver: $bin ($("$bin" --version))" >&2
