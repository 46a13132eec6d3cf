#!/usr/bin/env bash
# Builds the real third-party tools the e2e tests run, from the Go module
# proxy, and caches them outside the checkout, keyed by version:
#
#   ${FUNCD_TOOLS_CACHE:-$HOME/.cache/funcd-tools}/<tool>-<version>/<tool>
#
#   daprd        github.com/dapr/dapr v1.16.0 (-tags stablecomponents)
#   func         knative.dev/func v0.44.0 (the Knative Functions CLI)
#   cloudevents  github.com/cloudevents/conformance v0.2.0
#
# Each tool has a module in tools/<tool>/ whose committed go.mod and go.sum
# pin the version and every dependency, so builds are reproducible. A tool is
# rebuilt only when its binary is missing or its stamp (go.mod, go.sum, Go
# version, build flags) changed: a second run is a no-op.
#
# Usage:
#   tools/build.sh [TOOL...]     build the named tools (default: all)
#   tools/build.sh --env         print export lines for DAPRD, FUNC, CLOUDEVENTS
#                                (eval "$(tools/build.sh --env)")
#
# Cold, the three need about 6 GB of modules and several minutes of
# compiling (daprd is the long one); see tools/README.md for measured times.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
cache=${FUNCD_TOOLS_CACHE:-$HOME/.cache/funcd-tools}

# tool | module that sets the version | package to build | build tags | ldflags (%v = version)
specs=(
	"daprd|github.com/dapr/dapr|github.com/dapr/dapr/cmd/daprd|stablecomponents|-X github.com/dapr/dapr/pkg/buildinfo.version=%v"
	"func|knative.dev/func|knative.dev/func/cmd/func||-X knative.dev/func/pkg/app.vers=%v"
	"cloudevents|github.com/cloudevents/conformance|github.com/cloudevents/conformance/cmd/cloudevents||"
)

log() { printf 'tools: %s\n' "$*" >&2; }

# version prints the version tools/<tool>/go.mod requires of module $2.
version() {
	awk -v mod="$2" '($1 == mod || ($1 == "require" && $2 == mod)) { print ($1 == mod ? $2 : $3); exit }' \
		"$here/$1/go.mod"
}

# field prints field $2 (1-based) of the spec of tool $1.
field() {
	local s
	for s in "${specs[@]}"; do
		if [[ ${s%%|*} == "$1" ]]; then
			cut -d'|' -f"$2" <<<"$s"
			return
		fi
	done
	log "unknown tool $1 (known: daprd, func, cloudevents)"
	exit 2
}

# binary prints where tool $1 is cached.
binary() {
	local v
	v=$(version "$1" "$(field "$1" 2)")
	printf '%s/%s-%s/%s\n' "$cache" "$1" "$v" "$1"
}

# stamp identifies a build: the module files, the toolchain and the flags.
stamp() {
	{
		cat "$here/$1/go.mod" "$here/$1/go.sum"
		go env GOVERSION GOOS GOARCH CGO_ENABLED
		field "$1" 4
		field "$1" 5
	} | sha256sum | cut -d' ' -f1
}

build() {
	local tool=$1 mod pkg tags ldflags v bin want start
	mod=$(field "$tool" 2) pkg=$(field "$tool" 3) tags=$(field "$tool" 4)
	v=$(version "$tool" "$mod")
	ldflags="-s -w $(field "$tool" 5 | sed "s/%v/${v#v}/")"
	bin=$(binary "$tool")
	want=$(stamp "$tool")
	if [[ -x $bin && -f $bin.stamp && $(cat "$bin.stamp") == "$want" ]]; then
		log "$tool $v: cached at $bin"
		return
	fi
	log "$tool $v: building $pkg${tags:+ (tags: $tags)} ..."
	start=$SECONDS
	mkdir -p "$(dirname "$bin")"
	(
		cd "$here/$tool"
		log "$tool $v: downloading modules ..."
		GOWORK=off GOFLAGS=-mod=readonly go list -deps -tags "$tags" "$pkg" >/dev/null
		log "$tool $v: modules ready after $((SECONDS - start))s; compiling ..."
		GOWORK=off GOFLAGS=-mod=readonly go build -trimpath -tags "$tags" -ldflags "$ldflags" -o "$bin.tmp" "$pkg"
	)
	mv "$bin.tmp" "$bin"
	printf '%s\n' "$want" >"$bin.stamp"
	log "$tool $v: built in $((SECONDS - start))s -> $bin"
}

main() {
	if [[ ${1:-} == --env ]]; then
		printf 'export DAPRD=%q FUNC=%q CLOUDEVENTS=%q\n' "$(binary daprd)" "$(binary func)" "$(binary cloudevents)"
		return
	fi
	local tools=("$@") total=$SECONDS t
	((${#tools[@]})) || tools=(cloudevents func daprd)
	mkdir -p "$cache"
	# One build at a time per cache: a second run waits, then finds it cached.
	exec 9>"$cache/.lock"
	flock 9
	log "cache $cache; $(go version)"
	for t in "${tools[@]}"; do
		build "$t"
	done
	log "done in $((SECONDS - total))s"
}

main "$@"
