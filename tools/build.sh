#!/usr/bin/env bash
# Builds the real third-party tools the tests run, from the Go module proxy,
# and caches them outside the checkout, keyed by version:
#
#   ${FUNCD_TOOLS_CACHE:-$HOME/.cache/funcd-tools}/<tool>-<version>/<binary>
#
# What `make test` runs (the default set):
#   daprd        github.com/dapr/dapr v1.16.0 (-tags stablecomponents)
#   func         knative.dev/func v0.44.0 (the Knative Functions CLI)
#   cloudevents  github.com/cloudevents/conformance v0.2.0
#   jaeger       github.com/jaegertracing/jaeger v1.76.0 (cmd/jaeger, Jaeger v2:
#                an OpenTelemetry Collector with Jaeger's in-memory storage and
#                query API, the OTLP receiver the trace tests read back from;
#                the local cluster runs it too)
# What the local cluster runs (e2e/cluster, `make test-cluster`):
#   kubernetes   k8s.io/kubernetes v1.37.2: kube-apiserver, kube-controller-manager,
#                kube-scheduler, kubelet, kube-proxy, kubeadm, kubectl
#   etcd         go.etcd.io/etcd/server/v3 (etcdmain, as etcd's own main)
#   coredns      github.com/coredns/coredns (the plugins of kubeadm's Corefile)
#   knative      knative.dev/serving v0.50.0 (Knative v1.23): controller,
#                webhook, activator, autoscaler, queue
#   dapr         github.com/dapr/dapr v1.16.0: operator, injector, sentry,
#                placement, scheduler (daprd is the tool above)
#   helm         helm.sh/helm/v3
#   keda         github.com/kedacore/keda/v2: operator, adapter (metrics API
#                server), webhooks, for the KEDA variant
#
# Each tool has a module in tools/<dir>/ whose committed go.mod and go.sum
# pin the version and every dependency, so builds are reproducible. A tool is
# rebuilt only when a binary is missing or its stamp (go.mod, go.sum, Go
# version, build flags) changed: a second run is a no-op.
#
# Usage:
#   tools/build.sh [TOOL...]     build the named tools (default: the test set)
#   tools/build.sh --cluster     build the local cluster's tools
#   tools/build.sh --env         print export lines for DAPRD, FUNC, CLOUDEVENTS,
#                                JAEGER
#                                (eval "$(tools/build.sh --env)")
#   tools/build.sh --dir TOOL    print the folder holding TOOL's binaries
#
# Cold, the test set needs about 6 GB of modules and several minutes of
# compiling (daprd is the long one); see tools/README.md for measured times.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
cache=${FUNCD_TOOLS_CACHE:-$HOME/.cache/funcd-tools}

k8sversion=k8s.io/component-base/version
# tool | module folder | module that sets the version | packages to build |
# build tags | ldflags (%v = version without "v", %M/%m = major/minor) |
# build environment (what goes into the local cluster's images is static,
# as ko and the projects' own release builds make it: CGO_ENABLED=0)
specs=(
	"daprd|daprd|github.com/dapr/dapr|github.com/dapr/dapr/cmd/daprd|stablecomponents|-X github.com/dapr/dapr/pkg/buildinfo.version=%v|CGO_ENABLED=0"
	"func|func|knative.dev/func|knative.dev/func/cmd/func||-X knative.dev/func/pkg/app.vers=%v"
	"cloudevents|cloudevents|github.com/cloudevents/conformance|github.com/cloudevents/conformance/cmd/cloudevents||"
	"kubernetes|kubernetes|k8s.io/kubernetes|$(printf 'k8s.io/kubernetes/cmd/%s ' kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy kubeadm kubectl)||-X $k8sversion.gitVersion=v%v -X $k8sversion.gitMajor=%M -X $k8sversion.gitMinor=%m -X $k8sversion.gitTreeState=clean"
	"etcd|etcd|go.etcd.io/etcd/server/v3|funcd.local/tools/etcd||"
	"coredns|coredns|github.com/coredns/coredns|funcd.local/tools/coredns|||CGO_ENABLED=0"
	"knative|knative|knative.dev/serving|$(printf 'knative.dev/serving/cmd/%s ' controller webhook activator autoscaler queue)|||CGO_ENABLED=0"
	"dapr|daprd|github.com/dapr/dapr|$(printf 'github.com/dapr/dapr/cmd/%s ' operator injector sentry placement scheduler)||-X github.com/dapr/dapr/pkg/buildinfo.version=%v|CGO_ENABLED=0"
	"helm|helm|helm.sh/helm/v3|helm.sh/helm/v3/cmd/helm||-X helm.sh/helm/v3/internal/version.version=v%v"
	"jaeger|jaeger|github.com/jaegertracing/jaeger|github.com/jaegertracing/jaeger/cmd/jaeger||-X github.com/jaegertracing/jaeger/internal/version.latestVersion=v%v|CGO_ENABLED=0"
	"keda|keda|github.com/kedacore/keda/v2|$(printf 'github.com/kedacore/keda/v2/cmd/%s ' operator adapter webhooks)||-X github.com/kedacore/keda/v2/version.Version=%v|CGO_ENABLED=0"
)
test_tools=(cloudevents func daprd jaeger)
cluster_tools=(kubernetes etcd coredns knative dapr daprd helm func keda jaeger)

log() { printf 'tools: %s\n' "$*" >&2; }

# field prints field $2 (1-based) of the spec of tool $1.
field() {
	local s
	for s in "${specs[@]}"; do
		if [[ ${s%%|*} == "$1" ]]; then
			cut -d'|' -f"$2" <<<"$s"
			return
		fi
	done
	log "unknown tool $1 (known: ${test_tools[*]} ${cluster_tools[*]})"
	exit 2
}

# version prints the version tools/<dir>/go.mod requires of the tool's module.
version() {
	awk -v mod="$(field "$1" 3)" '($1 == mod || ($1 == "require" && $2 == mod)) { print ($1 == mod ? $2 : $3); exit }' \
		"$here/$(field "$1" 2)/go.mod"
}

# dir prints the folder holding tool $1's binaries.
dir() { printf '%s/%s-%s\n' "$cache" "$1" "$(version "$1")"; }

# stamp identifies a build: the module files, the toolchain and the flags.
stamp() {
	local d
	d=$here/$(field "$1" 2)
	{
		cat "$d/go.mod" "$d/go.sum"
		go env GOVERSION GOOS GOARCH CGO_ENABLED
		field "$1" 4
		field "$1" 5
		field "$1" 6
		field "$1" 7
	} | sha256sum | cut -d' ' -f1
}

# built: every binary of tool $1 is in its folder with the current stamp.
built() {
	local out=$2 pkg
	[[ -f $out/.stamp && $(cat "$out/.stamp") == "$3" ]] || return 1
	for pkg in $(field "$1" 4); do
		[[ -x $out/${pkg##*/} ]] || return 1
	done
}

build() {
	local tool=$1 pkgs tags ldflags v out want start n mm env
	pkgs=$(field "$tool" 4) tags=$(field "$tool" 5) env=$(field "$tool" 7)
	v=$(version "$tool")
	mm=${v#v}
	ldflags=$(field "$tool" 6)
	ldflags=${ldflags//%v/${v#v}}
	ldflags=${ldflags//%M/${mm%%.*}}
	mm=${mm#*.}
	ldflags="-s -w ${ldflags//%m/${mm%%.*}}"
	out=$(dir "$tool")
	want=$(stamp "$tool")
	if built "$tool" "$out" "$want"; then
		log "$tool $v: cached in $out"
		return
	fi
	n=$(wc -w <<<"$pkgs")
	log "$tool $v: building $n command(s)${tags:+ (tags: $tags)}${env:+ ($env)} ..."
	start=$SECONDS
	mkdir -p "$out"
	rm -rf "$out.tmp" && mkdir -p "$out.tmp"
	(
		cd "$here/$(field "$tool" 2)"
		log "$tool $v: downloading modules ..."
		# shellcheck disable=SC2086 # pkgs is a list of packages
		GOWORK=off GOFLAGS=-mod=readonly go list -deps -tags "$tags" $pkgs >/dev/null
		log "$tool $v: modules ready after $((SECONDS - start))s; compiling ..."
		# shellcheck disable=SC2086 # env is a list of assignments
		env $env GOWORK=off GOFLAGS=-mod=readonly go build -trimpath -tags "$tags" -ldflags "$ldflags" -o "$out.tmp/" $pkgs
	)
	mv "$out.tmp"/* "$out/"
	rmdir "$out.tmp"
	printf '%s\n' "$want" >"$out/.stamp"
	log "$tool $v: built in $((SECONDS - start))s -> $out"
}

# lock takes the cache's lock: one build at a time per cache, so a second run
# waits, then finds the tools cached. flock(1) is Linux-only; elsewhere
# (macOS) mkdir is the lock.
lock() {
	if command -v flock >/dev/null 2>&1; then
		exec 9>"$cache/.lock"
		flock 9
		return
	fi
	until mkdir "$cache/.lock.d" 2>/dev/null; do
		log "waiting for another build (remove $cache/.lock.d if none runs)"
		sleep 5
	done
	trap 'rmdir "$cache/.lock.d"' EXIT
}

main() {
	case ${1:-} in
	--env)
		printf 'export DAPRD=%q FUNC=%q CLOUDEVENTS=%q JAEGER=%q\n' \
			"$(dir daprd)/daprd" "$(dir func)/func" "$(dir cloudevents)/cloudevents" "$(dir jaeger)/jaeger"
		return
		;;
	--dir)
		dir "${2:?--dir needs a tool}"
		return
		;;
	--cluster)
		set -- "${cluster_tools[@]}"
		;;
	esac
	local tools=("$@") total=$SECONDS t
	((${#tools[@]})) || tools=("${test_tools[@]}")
	for t in "${tools[@]}"; do field "$t" 1 >/dev/null; done
	mkdir -p "$cache"
	lock
	log "cache $cache; $(go version)"
	for t in "${tools[@]}"; do
		build "$t"
	done
	log "done in $((SECONDS - total))s"
}

main "$@"
