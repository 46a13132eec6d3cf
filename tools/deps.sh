#!/usr/bin/env bash
# Installs and builds what `make test` runs for real, when it is missing:
# Debian's redis-server, shellcheck and python3 (the example Dapr apps in
# examples/dapr-apps) (apt, as root; one apt-get update),
# then daprd, the func CLI, the CloudEvents conformance CLI and Jaeger through
# tools/build.sh (cached by version, so a second run is a no-op).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

missing=()
command -v redis-server >/dev/null || missing+=(redis-server)
command -v shellcheck >/dev/null || missing+=(shellcheck)
command -v python3 >/dev/null || missing+=(python3)
if ((${#missing[@]})); then
	if [[ $(id -u) != 0 ]]; then
		echo "deps: make test needs ${missing[*]}: sudo apt-get install -y ${missing[*]}" >&2
		exit 1
	fi
	echo "deps: apt: installing ${missing[*]}" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq "${missing[@]}" >/dev/null
fi
echo "deps: $(redis-server --version | cut -d' ' -f1-3); shellcheck $(shellcheck --version | sed -n 2p | cut -d' ' -f2); $(python3 --version)" >&2

"$here/build.sh"
