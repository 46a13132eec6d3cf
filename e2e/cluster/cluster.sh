#!/usr/bin/env bash
# e2e/cluster/cluster.sh — a real single-node Kubernetes on this machine, made
# from the real binaries, with no Docker, no kind and no image pulls.
#
#   e2e/cluster/cluster.sh up       start it (builds and caches what it needs)
#   e2e/cluster/cluster.sh down     stop every process it started, remove its state
#   e2e/cluster/cluster.sh status   what runs
#   e2e/cluster/cluster.sh env      export lines: KUBECONFIG, PATH, and deploy/setup.sh's settings
#   e2e/cluster/cluster.sh setup [VAR=value...]
#                                   deploy/setup.sh into this cluster (Knative, Dapr,
#                                   Redis and the functions, from local files)
#   e2e/cluster/cluster.sh teardown [VAR=value...]
#                                   deploy/teardown.sh on this cluster
#
# The node lives in its own network namespace, so nothing it does (bridge,
# iptables, ports) touches the machine's own network: etcd, kube-apiserver,
# kube-controller-manager, kube-scheduler, kubelet on containerd + runc with
# the bridge CNI plugin, kube-proxy (iptables), an image registry, all as
# processes; CoreDNS (kubeadm's addon) and the kingress test fixture as pods.
# The machine reaches the node at NODE_IP through a veth pair.
#
# Kubernetes v1.37.2, etcd, CoreDNS and helm come from tools/build.sh (cached
# by version); the images are built here from those binaries (as ko does:
# binaries on an almost empty base) and pushed to the node's registry.
# Needs root, Linux, and Debian's containerd, runc, containernetworking-plugins,
# iptables and conntrack (installed with apt when missing).
#
# Settings (environment):
#   FUNCD_CLUSTER_DIR   state (default /var/lib/funcd-cluster), removed by down
#   FUNCD_TOOLS_CACHE   tools and built images (default ~/.cache/funcd-tools)
#   NODE_SUBNET         the veth pair's /24, first three octets (default 10.217.0)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
STATE=${FUNCD_CLUSTER_DIR:-/var/lib/funcd-cluster}
CACHE=${FUNCD_TOOLS_CACHE:-$HOME/.cache/funcd-tools}
NETNS=funcd-cluster
NODE_SUBNET=${NODE_SUBNET:-10.217.0}
HOST_IP=${NODE_SUBNET}.1
NODE_IP=${NODE_SUBNET}.2
NODE_NAME=funcd-node
POD_CIDR=10.244.0.0/16
NODE_POD_CIDR=10.244.0.0/24
SERVICE_CIDR=10.96.0.0/16
DNS_IP=10.96.0.10
REGISTRY=${NODE_IP}:5000
CGROUP=funcd-cluster
K8S_VERSION=v1.37.2
PAUSE_TAG=3.10.2 # kubeadm v1.37's pause version
REDIS_TAG=$(redis-server --version 2>/dev/null | sed -E 's/.*v=([0-9.]+).*/\1/')
# Jaeger v2.13.0 is the github.com/jaegertracing/jaeger v1.76.0 module that
# tools/build.sh builds (deploy/setup.sh JAEGER_VERSION).
JAEGER_TAG=2.13.0
INGRESS_CLASS=kingress.fixture.funcd.dev
INGRESS_NODEPORT=31080

START=$SECONDS
log() { printf '==> %s  (+%ds)\n' "$*" "$((SECONDS - START))"; }
info() { printf '    %s\n' "$*"; }
die() {
	printf 'cluster: %s\n' "$*" >&2
	exit 1
}

# innode CMD...: CMD in the node's network namespace (and the machine's mount
# namespace, so kubelet's and containerd's mounts see each other).
innode() { nsenter --net="/run/netns/$NETNS" -- "$@"; }

bin() { printf '%s/%s\n' "$(tools --dir "$1")" "$2"; }
tools() { "$REPO/tools/build.sh" "$@"; }
kc() { "$(bin kubernetes kubectl)" --kubeconfig "$STATE/kubeconfig/admin.conf" "$@"; }

# --- processes ----------------------------------------------------------------
# start NAME CMD...: run CMD in the node, detached, logging to logs/NAME.log.
start() {
	local name=$1
	shift
	mkdir -p "$STATE/logs" "$STATE/pids"
	setsid nsenter --net="/run/netns/$NETNS" -- "$@" >"$STATE/logs/$name.log" 2>&1 </dev/null &
	echo $! >"$STATE/pids/$name"
}
running() { [[ -f $STATE/pids/$1 ]] && kill -0 "$(cat "$STATE/pids/$1")" 2>/dev/null; }
stop() { # NAME: TERM, then KILL after 10 s
	local pid
	[[ -f $STATE/pids/$1 ]] || return 0
	pid=$(cat "$STATE/pids/$1")
	if kill -TERM "$pid" 2>/dev/null; then
		for _ in $(seq 100); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null || true
	fi
	rm -f "$STATE/pids/$1"
}
# wait_for WHAT SECONDS CMD...: retry CMD until it succeeds.
wait_for() {
	local what=$1 limit=$2 t0=$SECONDS
	shift 2
	until "$@" >/dev/null 2>&1; do
		if ((SECONDS - t0 > limit)); then
			die "$what: not ready after ${limit}s (logs in $STATE/logs)"
		fi
		sleep 1
	done
	info "$what ready after $((SECONDS - t0))s"
}

# --- prerequisites --------------------------------------------------------------
prerequisites() {
	[[ $(id -u) == 0 ]] || die "the node's containers, network namespace and iptables need root"
	[[ $(uname -s) == Linux ]] || die "a node needs Linux"
	local missing=() c
	for c in containerd:containerd runc:runc ctr:containerd iptables:iptables conntrack:conntrack nsenter:util-linux; do
		command -v "${c%%:*}" >/dev/null || missing+=("${c#*:}")
	done
	[[ -x /usr/lib/cni/bridge ]] || missing+=(containernetworking-plugins)
	[[ -x /usr/bin/redis-server ]] || missing+=(redis-server)
	if ((${#missing[@]})); then
		log "apt: installing ${missing[*]}"
		DEBIAN_FRONTEND=noninteractive apt-get update -qq
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
	fi
}

build_tools() {
	log "tools (tools/build.sh --cluster; cached by version)"
	tools --cluster
	mkdir -p "$STATE/bin"
	(cd "$HERE" && GOWORK=off CGO_ENABLED=0 go build -trimpath -o "$STATE/bin/" ./cmd/image ./cmd/registry ./cmd/kingress ./cmd/kfake)
}

# --- network --------------------------------------------------------------------
network() {
	log "network namespace $NETNS: node $NODE_IP, machine side $HOST_IP"
	ip netns add "$NETNS"
	ip link add funcd-host type veth peer name funcd-node
	ip link set funcd-node netns "$NETNS"
	ip addr add "$HOST_IP/24" dev funcd-host
	ip link set funcd-host up
	innode ip link set lo up
	innode ip addr add "$NODE_IP/24" dev funcd-node
	innode ip link set funcd-node up
	innode ip route add default via "$HOST_IP"
	innode sysctl -qw net.ipv4.ip_forward=1
	innode sysctl -qw net.bridge.bridge-nf-call-iptables=1 2>/dev/null ||
		info "bridge-nf-call-iptables not settable here (kube-proxy masquerades all service traffic)"
}

# --- certificates and kubeconfigs (kubeadm) ----------------------------------------
pki() {
	log "certificates and kubeconfigs (kubeadm init phase certs / kubeconfig)"
	cat >"$STATE/kubeadm.yaml" <<EOF
apiVersion: kubeadm.k8s.io/v1beta4
kind: InitConfiguration
localAPIEndpoint:
  advertiseAddress: ${NODE_IP}
  bindPort: 6443
nodeRegistration:
  name: ${NODE_NAME}
---
apiVersion: kubeadm.k8s.io/v1beta4
kind: ClusterConfiguration
kubernetesVersion: ${K8S_VERSION}
clusterName: funcd
certificatesDir: ${STATE}/pki
controlPlaneEndpoint: ${NODE_IP}:6443
networking:
  serviceSubnet: ${SERVICE_CIDR}
  podSubnet: ${POD_CIDR}
  dnsDomain: cluster.local
apiServer:
  certSANs: [${NODE_IP}, 127.0.0.1, localhost]
dns:
  imageRepository: ${REGISTRY}/coredns
EOF
	local kubeadm
	kubeadm=$(bin kubernetes kubeadm)
	"$kubeadm" init phase certs all --config "$STATE/kubeadm.yaml" >/dev/null
	"$kubeadm" init phase kubeconfig super-admin --config "$STATE/kubeadm.yaml" --kubeconfig-dir "$STATE/kubeconfig" >/dev/null
	"$kubeadm" init phase kubeconfig admin --config "$STATE/kubeadm.yaml" --kubeconfig-dir "$STATE/kubeconfig" >/dev/null
	"$kubeadm" init phase kubeconfig controller-manager --config "$STATE/kubeadm.yaml" --kubeconfig-dir "$STATE/kubeconfig" >/dev/null
	"$kubeadm" init phase kubeconfig scheduler --config "$STATE/kubeadm.yaml" --kubeconfig-dir "$STATE/kubeconfig" >/dev/null
	"$kubeadm" init phase kubeconfig kubelet --config "$STATE/kubeadm.yaml" --kubeconfig-dir "$STATE/kubeconfig" >/dev/null
	# kube-proxy as system:kube-proxy, which the default RBAC binds to
	# system:node-proxier.
	"$kubeadm" kubeconfig user --config "$STATE/kubeadm.yaml" --client-name system:kube-proxy \
		>"$STATE/kubeconfig/kube-proxy.conf"
}

# --- containerd -------------------------------------------------------------------
containerd_config() {
	mkdir -p "$STATE/containerd/certs.d/${REGISTRY}" "$STATE/cni/net.d"
	cat >"$STATE/containerd/config.toml" <<EOF
version = 2
root = "${STATE}/containerd/root"
state = "${STATE}/containerd/state"
disabled_plugins = ["io.containerd.internal.v1.opt"]

[grpc]
  address = "${STATE}/containerd.sock"

[ttrpc]
  address = "${STATE}/containerd.sock.ttrpc"

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "${REGISTRY}/pause:${PAUSE_TAG}"
  # The sandbox lacks CAP_SYS_RESOURCE: runc must not raise oom_score_adj.
  restrict_oom_score_adj = true
  disable_apparmor = true
  netns_mounts_under_state_dir = true
  # containerd 2's default: pods may bind ports below 1024 without
  # privileges (CoreDNS's nonroot :53; its image would carry a file capability).
  enable_unprivileged_ports = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "${STATE}/cni/net.d"
  [plugins."io.containerd.grpc.v1.cri".registry]
    config_path = "${STATE}/containerd/certs.d"
EOF
	printf 'server = "http://%s"\n\n[host."http://%s"]\n  capabilities = ["pull", "resolve"]\n' \
		"$REGISTRY" "$REGISTRY" >"$STATE/containerd/certs.d/${REGISTRY}/hosts.toml"
	cat >"$STATE/cni/net.d/10-funcd.conflist" <<EOF
{
  "cniVersion": "1.0.0",
  "name": "funcd",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "cni0",
      "isGateway": true,
      "ipMasq": true,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "dataDir": "${STATE}/cni/ipam",
        "ranges": [[{"subnet": "${NODE_POD_CIDR}"}]],
        "routes": [{"dst": "0.0.0.0/0"}]
      }
    },
    {"type": "portmap", "capabilities": {"portMappings": true}}
  ]
}
EOF
}

# --- control plane ---------------------------------------------------------------
control_plane() {
	local k8s pki=$STATE/pki
	k8s=$(tools --dir kubernetes)
	log "etcd"
	start etcd "$(bin etcd etcd)" --name node --data-dir "$STATE/etcd" \
		--listen-client-urls http://127.0.0.1:2379 --advertise-client-urls http://127.0.0.1:2379 \
		--listen-peer-urls http://127.0.0.1:2380 --initial-advertise-peer-urls http://127.0.0.1:2380 \
		--initial-cluster node=http://127.0.0.1:2380 --log-level warn
	wait_for etcd 60 innode curl -fsS http://127.0.0.1:2379/health

	log "kube-apiserver"
	# kubeadm's flags for a control-plane node, with etcd on the node's loopback.
	start kube-apiserver "$k8s/kube-apiserver" \
		--advertise-address "$NODE_IP" --secure-port 6443 --etcd-servers http://127.0.0.1:2379 \
		--service-cluster-ip-range "$SERVICE_CIDR" --allow-privileged=true \
		--authorization-mode Node,RBAC --enable-admission-plugins NodeRestriction \
		--client-ca-file "$pki/ca.crt" --tls-cert-file "$pki/apiserver.crt" --tls-private-key-file "$pki/apiserver.key" \
		--kubelet-client-certificate "$pki/apiserver-kubelet-client.crt" --kubelet-client-key "$pki/apiserver-kubelet-client.key" \
		--kubelet-preferred-address-types InternalIP \
		--service-account-issuer https://kubernetes.default.svc.cluster.local \
		--service-account-key-file "$pki/sa.pub" --service-account-signing-key-file "$pki/sa.key" \
		--proxy-client-cert-file "$pki/front-proxy-client.crt" --proxy-client-key-file "$pki/front-proxy-client.key" \
		--requestheader-client-ca-file "$pki/front-proxy-ca.crt" --requestheader-allowed-names front-proxy-client \
		--requestheader-extra-headers-prefix X-Remote-Extra- --requestheader-group-headers X-Remote-Group \
		--requestheader-username-headers X-Remote-User
	wait_for kube-apiserver 120 kc get --raw /readyz
	# What kubeadm init does next: admin.conf's group (and the apiserver's
	# kubelet client's) gets cluster-admin, granted with super-admin.conf.
	"$(bin kubernetes kubectl)" --kubeconfig "$STATE/kubeconfig/super-admin.conf" \
		create clusterrolebinding kubeadm:cluster-admins --clusterrole cluster-admin \
		--group kubeadm:cluster-admins >/dev/null
	# ...and the apiserver may read from kubelets (logs, exec).
	kc create clusterrolebinding kubeadm:apiserver-kubelet-client --clusterrole system:kubelet-api-admin \
		--user kube-apiserver-kubelet-client >/dev/null

	log "kube-controller-manager, kube-scheduler"
	start kube-controller-manager "$k8s/kube-controller-manager" \
		--kubeconfig "$STATE/kubeconfig/controller-manager.conf" \
		--authentication-kubeconfig "$STATE/kubeconfig/controller-manager.conf" \
		--authorization-kubeconfig "$STATE/kubeconfig/controller-manager.conf" \
		--bind-address 127.0.0.1 --leader-elect=false --use-service-account-credentials=true \
		--controllers '*,bootstrapsigner,tokencleaner' \
		--cluster-signing-cert-file "$pki/ca.crt" --cluster-signing-key-file "$pki/ca.key" \
		--root-ca-file "$pki/ca.crt" --service-account-private-key-file "$pki/sa.key" \
		--service-cluster-ip-range "$SERVICE_CIDR" --cluster-cidr "$POD_CIDR" --allocate-node-cidrs=false
	start kube-scheduler "$k8s/kube-scheduler" \
		--kubeconfig "$STATE/kubeconfig/scheduler.conf" \
		--authentication-kubeconfig "$STATE/kubeconfig/scheduler.conf" \
		--authorization-kubeconfig "$STATE/kubeconfig/scheduler.conf" \
		--bind-address 127.0.0.1 --leader-elect=false
	wait_for kube-controller-manager 60 innode curl -fsSk https://127.0.0.1:10257/healthz
	wait_for kube-scheduler 60 innode curl -fsSk https://127.0.0.1:10259/healthz
}

# --- node -----------------------------------------------------------------------
node() {
	local k8s c
	k8s=$(tools --dir kubernetes)
	log "containerd $(containerd --version | cut -d' ' -f3) + runc"
	start containerd containerd --config "$STATE/containerd/config.toml"
	wait_for containerd 30 ctr --address "$STATE/containerd.sock" version

	log "kubelet"
	# kubelet's cgroups go under /funcd-cluster in every hierarchy (cgroup v1
	# here), so down can find every container process and remove them all.
	for c in /sys/fs/cgroup/*/; do
		[[ -L ${c%/} ]] || mkdir -p "$c$CGROUP"
	done
	# A new cpuset has no CPUs or memory nodes until given its parent's.
	cat /sys/fs/cgroup/cpuset/cpuset.cpus >"/sys/fs/cgroup/cpuset/$CGROUP/cpuset.cpus"
	cat /sys/fs/cgroup/cpuset/cpuset.mems >"/sys/fs/cgroup/cpuset/$CGROUP/cpuset.mems"
	mkdir -p "$STATE/kubelet/pki"
	# Paths outside $STATE that kubelet (device plugins) and containerd's
	# CNI (its result cache) always use: removed by down if up made them.
	[[ -e /var/lib/kubelet ]] || touch "$STATE/created-var-lib-kubelet"
	[[ -e /var/lib/cni ]] || touch "$STATE/created-var-lib-cni"
	printf 'nameserver %s\n' "$HOST_IP" >"$STATE/resolv.conf"
	cat >"$STATE/kubelet.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: ${STATE}/pki/ca.crt}
authorization: {mode: Webhook}
containerRuntimeEndpoint: unix://${STATE}/containerd.sock
cgroupDriver: cgroupfs
cgroupRoot: /${CGROUP}
# cgroup v1 here, which v1.37 refuses unless told otherwise.
failCgroupV1: false
failSwapOn: false
enforceNodeAllocatable: []
clusterDNS: [${DNS_IP}]
clusterDomain: cluster.local
resolvConf: ${STATE}/resolv.conf
volumePluginDir: ${STATE}/kubelet/volume-plugins
podLogsDir: ${STATE}/pod-logs
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
# The whole machine's disk is shared with the rest of it: evict on memory only.
evictionHard: {memory.available: 100Mi}
imageGCHighThresholdPercent: 100
serializeImagePulls: false
EOF
	start kubelet "$k8s/kubelet" --config "$STATE/kubelet.yaml" \
		--kubeconfig "$STATE/kubeconfig/kubelet.conf" --root-dir "$STATE/kubelet" \
		--cert-dir "$STATE/kubelet/pki" --node-ip "$NODE_IP" --hostname-override "$NODE_NAME"
	wait_for "node $NODE_NAME" 120 kc get node "$NODE_NAME"

	log "kube-proxy (iptables)"
	cat >"$STATE/kube-proxy.yaml" <<EOF
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection: {kubeconfig: ${STATE}/kubeconfig/kube-proxy.conf}
mode: iptables
hostnameOverride: ${NODE_NAME}
clusterCIDR: ${POD_CIDR}
# Pods on one bridge answer each other directly; masquerading every service
# connection keeps replies on the path conntrack knows.
iptables: {masqueradeAll: true}
# Leave the machine's conntrack settings alone.
conntrack: {maxPerCore: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s}
healthzBindAddress: 127.0.0.1:10256
metricsBindAddress: 127.0.0.1:10249
EOF
	start kube-proxy "$k8s/kube-proxy" --config "$STATE/kube-proxy.yaml"
	wait_for kube-proxy 60 innode curl -fsS http://127.0.0.1:10256/healthz
}

# --- images -----------------------------------------------------------------------
# image NAME REF STAMP [image build flags and files]: build NAME into the
# cache when its inputs changed, and push it to REF.
image() {
	local name=$1 ref=$2 stamp=$3 dir want
	shift 3
	dir=$CACHE/cluster/images/$name
	want=$(printf '%s\n' "$stamp" "$*" | sha256sum | cut -c1-16)
	if [[ ! -f $dir/.stamp || $(cat "$dir/.stamp") != "$want" ]]; then
		"$STATE/bin/image" build -o "$dir" "$@" >/dev/null
		echo "$want" >"$dir/.stamp"
	fi
	"$STATE/bin/image" push -insecure "$dir" "$ref" >/dev/null
}
stamp_of() { cat "$(tools --dir "$1")/.stamp"; }

registry() {
	log "image registry on ${REGISTRY} (blobs kept in $CACHE/cluster/registry)"
	start registry "$STATE/bin/registry" -address "${REGISTRY}" -blobs "$CACHE/cluster/registry"
	wait_for registry 30 curl -fsS "http://${REGISTRY}/v2/"
}

images() {
	local t0=$SECONDS k d n v b
	log "images (built from the cached binaries, pushed to ${REGISTRY})"
	mkdir -p "$CACHE/cluster/pause"
	# Kubernetes' own pause, from its source in the module.
	k=$(go env GOMODCACHE)/k8s.io/kubernetes@${K8S_VERSION}/build/pause/linux/pause.c
	[[ -f $k ]] || (cd "$REPO/tools/kubernetes" && GOWORK=off go mod download k8s.io/kubernetes)
	if [[ ! -x $CACHE/cluster/pause/pause-$PAUSE_TAG ]]; then
		gcc -Os -static -DVERSION="v$PAUSE_TAG-funcd" -o "$CACHE/cluster/pause/pause-$PAUSE_TAG" "$k"
	fi
	image pause "$REGISTRY/pause:$PAUSE_TAG" "$(sha256sum <"$k")" \
		-user 0 -entrypoint /pause "$CACHE/cluster/pause/pause-$PAUSE_TAG:/pause"
	d=$(tools --dir coredns)
	v=$(basename "$d")
	image coredns "$REGISTRY/coredns/coredns:${v#coredns-}" "$(stamp_of coredns)" -entrypoint /coredns "$d/coredns:/coredns"
	# Knative Serving, as ko lays out its images.
	d=$(tools --dir knative)
	for n in controller webhook activator autoscaler queue; do
		image "knative-$n" "$REGISTRY/knative/$n:v1.23.0" "$(stamp_of knative)" \
			-entrypoint "/ko-app/$n" "$d/$n:/ko-app/$n"
	done
	# Dapr: one image per binary, named as the chart names them.
	d=$(tools --dir dapr)
	for n in operator injector sentry placement scheduler; do
		image "dapr-$n" "$REGISTRY/dapr/$n:1.16.0" "$(stamp_of dapr)" -entrypoint "/$n" "$d/$n:/$n"
	done
	image dapr-daprd "$REGISTRY/dapr/daprd:1.16.0" "$(stamp_of daprd)" \
		-entrypoint /daprd "$(tools --dir daprd)/daprd:/daprd"
	# Redis: Debian's binaries and the libraries they link. Protected mode off,
	# as the official redis image builds it (clients come from other pods).
	local files=() lib
	for b in redis-server redis-cli; do
		files+=("/usr/bin/$b:/usr/local/bin/$b")
	done
	for lib in $(ldd /usr/bin/redis-server /usr/bin/redis-cli | awk '/=>/ { print $3 } /^[[:space:]]*\/lib/ { print $1 }' | sort -u); do
		files+=("$(readlink -f "$lib"):$lib")
	done
	image redis "$REGISTRY/redis:$REDIS_TAG" "$(cat /usr/bin/redis-server /usr/bin/redis-cli | sha256sum)" \
		-user 999 -workdir /data -entrypoint /usr/local/bin/redis-server \
		-entrypoint-arg --protected-mode -entrypoint-arg no "${files[@]}"
	# KEDA, named and laid out as its Dockerfiles make its images.
	d=$(tools --dir keda)
	image keda "$REGISTRY/kedacore/keda:2.21.0" "$(stamp_of keda)" -entrypoint /keda "$d/operator:/keda"
	image keda-metrics-apiserver "$REGISTRY/kedacore/keda-metrics-apiserver:2.21.0" "$(stamp_of keda)" \
		-entrypoint /keda-adapter "$d/adapter:/keda-adapter"
	image keda-admission-webhooks "$REGISTRY/kedacore/keda-admission-webhooks:2.21.0" "$(stamp_of keda)" \
		-entrypoint /keda-admission-webhooks "$d/webhooks:/keda-admission-webhooks"
	# Jaeger v2 for deploy/setup.sh TRACING=jaeger, laid out as its
	# Dockerfile makes jaegertracing/jaeger (the user, JAEGER_LISTEN_HOST).
	d=$(tools --dir jaeger)
	image jaeger "$REGISTRY/jaegertracing/jaeger:$JAEGER_TAG" "$(stamp_of jaeger)" -user 10001 \
		-env JAEGER_LISTEN_HOST=0.0.0.0 -entrypoint /cmd/jaeger/jaeger-linux "$d/jaeger:/cmd/jaeger/jaeger-linux"
	# Test fixtures: the ingress (no Envoy here) and the Kafka broker.
	for n in kingress kfake; do
		image "$n" "$REGISTRY/$n:dev" "$(sha256sum <"$STATE/bin/$n")" -entrypoint "/ko-app/$n" "$STATE/bin/$n:/ko-app/$n"
	done
	info "pushed in $((SECONDS - t0))s"
}

# --- release files (what the projects publish, made here from their source) -------
# knative_release: Knative Serving's serving-crds.yaml and serving-core.yaml,
# made as its hack/generate-yamls.sh makes them (ko resolve over config/core),
# from knative.dev/serving v0.50.0 = Knative v1.23.0: ko:// references become
# the images pushed above, and the files the repository symlinks from its
# vendored knative.dev/networking and knative.dev/caching (which module zips
# leave out) come from those modules, at the versions serving requires.
knative_release() {
	local mod out=$STATE/release/knative f n
	mod=$(cd "$REPO/tools/knative" && GOWORK=off go list -m -f '{{.Dir}}' knative.dev/serving)
	local net cach
	net=$(cd "$REPO/tools/knative" && GOWORK=off go list -m -f '{{.Dir}}' knative.dev/networking)
	cach=$(cd "$REPO/tools/knative" && GOWORK=off go list -m -f '{{.Dir}}' knative.dev/caching)
	mkdir -p "$out"
	resolve() {
		local script=(-e 's|app.kubernetes.io/version: devel|app.kubernetes.io/version: "1.23.0"|')
		for n in controller webhook activator autoscaler queue; do
			script+=(-e "s|ko://knative.dev/serving/cmd/$n\b|$REGISTRY/knative/$n:v1.23.0|")
		done
		for f in "$@"; do
			printf -- '---\n# Source: %s\n' "${f#"$mod"/}"
			sed "${script[@]}" "$f"
			echo
		done
	}
	local crds=("$mod"/config/core/300-resources/*.yaml
		"$net"/config/{certificate,domain-claim,ingress,serverlessservice}.yaml "$cach/config/image.yaml")
	resolve "${crds[@]}" >"$out/serving-crds.yaml"
	# config/core in ko's (lexical, recursive) order, the symlinks in place.
	local core=()
	while IFS= read -r f; do core+=("$f"); done < <(find "$mod/config/core" -name '*.yaml' | LC_ALL=C sort)
	core+=("$cach/config/image.yaml" "$net"/config/{certificate,domain-claim,ingress,serverlessservice,config-network}.yaml)
	resolve "${core[@]}" >"$out/serving-core.yaml"
	if grep -q 'ko://' "$out"/*.yaml; then die "unresolved ko:// references in $out"; fi
}

# keda_release: KEDA's keda-2.21.0.yaml, made as its release does
# (kustomize build config/default with the version set), from the module.
keda_release() {
	local mod out=$STATE/release/keda
	mod=$(cd "$REPO/tools/keda" && GOWORK=off go list -m -f '{{.Dir}}' github.com/kedacore/keda/v2)
	mkdir -p "$out"
	kc kustomize "$mod/config/default" |
		sed -e "s|ghcr.io/kedacore/\([a-z-]*\):main|$REGISTRY/kedacore/\1:2.21.0|" \
			-e 's|app.kubernetes.io/version: main|app.kubernetes.io/version: "2.21.0"|' >"$out/keda-2.21.0.yaml"
	if grep -q ':main$' "$out/keda-2.21.0.yaml"; then die "unresolved KEDA images in $out"; fi
}

# --- add-ons ------------------------------------------------------------------------
addons() {
	log "CoreDNS (kubeadm init phase addon coredns)"
	"$(bin kubernetes kubeadm)" init phase addon coredns --config "$STATE/kubeadm.yaml" \
		--kubeconfig "$STATE/kubeconfig/admin.conf" >/dev/null
	kc -n kube-system rollout status deployment/coredns --timeout=180s

	log "storage: 6 PersistentVolumes on the node's disk (no provisioner)"
	# Claims without a storage class (Dapr's scheduler and placement
	# StatefulSets) bind to these, as kind's local-path volumes would serve
	# them. Their folders are open to the nonroot users the pods run as.
	local i
	for i in 0 1 2 3 4 5; do
		mkdir -p "$STATE/volumes/pv-$i"
		chmod 1777 "$STATE/volumes/pv-$i"
		cat <<EOF
apiVersion: v1
kind: PersistentVolume
metadata: {name: node-pv-$i}
spec:
  capacity: {storage: 2Gi}
  accessModes: [ReadWriteOnce]
  persistentVolumeReclaimPolicy: Retain
  hostPath: {path: $STATE/volumes/pv-$i, type: Directory}
---
EOF
	done | kc apply -f - >/dev/null

	log "kingress test fixture (ingress class ${INGRESS_CLASS})"
	kc apply -f - >/dev/null <<EOF
apiVersion: v1
kind: Namespace
metadata: {name: kingress-fixture}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: kingress, namespace: kingress-fixture}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: kingress-fixture}
rules:
- apiGroups: [networking.internal.knative.dev]
  resources: [ingresses]
  verbs: [get, list, watch]
- apiGroups: [networking.internal.knative.dev]
  resources: [ingresses/status]
  verbs: [update]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: kingress-fixture}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: kingress-fixture}
subjects: [{kind: ServiceAccount, name: kingress, namespace: kingress-fixture}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: kingress, namespace: kingress-fixture}
spec:
  selector: {matchLabels: {app: kingress}}
  template:
    metadata: {labels: {app: kingress}}
    spec:
      serviceAccountName: kingress
      containers:
      - name: kingress
        image: ${REGISTRY}/kingress:dev
        args: [-class, ${INGRESS_CLASS}]
        ports: [{containerPort: 8080}, {containerPort: 8081}]
        securityContext: {runAsNonRoot: true, allowPrivilegeEscalation: false}
---
apiVersion: v1
kind: Service
metadata: {name: kingress-public, namespace: kingress-fixture}
spec:
  type: NodePort
  selector: {app: kingress}
  ports: [{name: http, port: 80, targetPort: 8080, nodePort: ${INGRESS_NODEPORT}}]
---
apiVersion: v1
kind: Service
metadata: {name: kingress-private, namespace: kingress-fixture}
spec:
  selector: {app: kingress}
  ports: [{name: http, port: 80, targetPort: 8081}]
EOF
	info "the ingress CRD comes with Knative: the fixture starts once deploy/setup.sh installed it"
}

# --- commands -------------------------------------------------------------------------
# env_lines: how to use the cluster, and what deploy/setup.sh needs to
# install into it from local files and the node's registry.
env_lines() {
	local dapr k8s
	dapr=$(cd "$REPO/tools/daprd" && GOWORK=off go list -m -f '{{.Dir}}' github.com/dapr/dapr)
	k8s=$(tools --dir kubernetes)
	cat <<EOF
export KUBECONFIG=$STATE/kubeconfig/admin.conf
export PATH=$k8s:$(tools --dir helm):\$PATH
export FUNC=$(bin func func)
export NODE_IP=$NODE_IP
# deploy/setup.sh on this cluster:
export CLUSTER=current
export REGISTRY=$REGISTRY/funcd REGISTRY_INSECURE=1
export KNATIVE_MANIFESTS=$STATE/release/knative
export INGRESS_CLASS=$INGRESS_CLASS INGRESS_URL=http://$NODE_IP:$INGRESS_NODEPORT DOMAIN=example.com
export DAPR_CHART=$dapr/charts/dapr DAPR_REGISTRY=$REGISTRY/dapr
export REDIS_IMAGE=$REGISTRY/redis:$REDIS_TAG
export KEDA_MANIFEST=$STATE/release/keda/keda-2.21.0.yaml
# No Kafka broker here: franz-go's kfake stands in (a test fixture).
export KAFKA_IMAGE=$REGISTRY/kfake:dev
export JAEGER_IMAGE=$REGISTRY/jaegertracing/jaeger:$JAEGER_TAG
# The node's network namespace: Services' cluster IPs answer there.
export NODE_NETNS=$NETNS
EOF
}

up() {
	prerequisites
	if [[ -d $STATE ]]; then
		if running kube-apiserver && running kubelet && kc get --raw /readyz >/dev/null 2>&1; then
			log "already up"
			return
		fi
		log "a stopped or partial cluster is in $STATE: removing it first"
		down
	fi
	build_tools
	mkdir -p "$STATE"
	touch "$STATE/started"
	network
	pki
	containerd_config
	registry
	images
	control_plane
	node
	knative_release
	keda_release
	addons
	env_lines >"$STATE/env"
	log "up: node $NODE_NAME at $NODE_IP; eval \"\$($0 env)\""
}

# down stops what up started, in reverse, and removes every trace of it:
# container processes (found by their cgroups), the daemons, their mounts,
# the cgroups, the network namespace and the state.
down() {
	local n c pids
	[[ -d $STATE || -e /run/netns/$NETNS ]] || {
		log "not up"
		return
	}
	log "down"
	stop kube-proxy
	stop kubelet
	pids=$(find /sys/fs/cgroup/*/"$CGROUP" -name cgroup.procs -exec cat {} + 2>/dev/null | sort -u || true)
	if [[ -n $pids ]]; then
		info "killing $(wc -w <<<"$pids") container processes"
		# shellcheck disable=SC2086 # a list of pids
		kill -KILL $pids 2>/dev/null || true
	fi
	stop containerd
	pkill -KILL -f "containerd-shim-runc-v2 .*-address ${STATE}/containerd.sock" 2>/dev/null || true
	for n in kube-scheduler kube-controller-manager kube-apiserver etcd registry; do
		stop "$n"
	done
	if [[ -d $STATE ]]; then
		awk -v s="$STATE/" 'index($2, s) == 1 { print $2 }' /proc/self/mounts | sort -r | while read -r m; do
			umount -l "$m" 2>/dev/null || true
		done
	fi
	# cgroups, deepest first (a cgroup goes once its processes are gone).
	for c in /sys/fs/cgroup/*/"$CGROUP"; do
		[[ -d $c ]] || continue
		find "$c" -depth -type d -exec rmdir {} + 2>/dev/null || true
	done
	ip netns del "$NETNS" 2>/dev/null || true
	ip link del funcd-host 2>/dev/null || true
	if [[ -f $STATE/started ]]; then
		# Results of our pods' CNI calls (funcd network and loopback).
		find /var/lib/cni/results \( -name 'funcd-*' -o -name 'cni-loopback-*' \) \
			-newer "$STATE/started" -delete 2>/dev/null || true
	fi
	[[ ! -f $STATE/created-var-lib-kubelet ]] || rm -rf /var/lib/kubelet
	[[ ! -f $STATE/created-var-lib-cni ]] || rm -rf /var/lib/cni
	rm -rf "$STATE"
	log "down: nothing of the cluster is left"
}

status() {
	local n
	for n in registry etcd kube-apiserver kube-controller-manager kube-scheduler containerd kubelet kube-proxy; do
		if running "$n"; then printf '%-24s running (pid %s)\n' "$n" "$(cat "$STATE/pids/$n")"; else printf '%-24s stopped\n' "$n"; fi
	done
	if running kube-apiserver; then kc get nodes -o wide && kc get pods -A; fi
}

case ${1:-} in
up) up ;;
down) down ;;
status) status ;;
env) env_lines ;;
setup | teardown)
	# deploy/setup.sh (or teardown.sh) on this cluster, from local files and
	# the node's registry.
	deploy_script=$1
	shift
	eval "$(env_lines)"
	exec env "$@" "$REPO/deploy/$deploy_script.sh"
	;;
*)
	echo "usage: $0 up|down|status|env|setup|teardown [VAR=value...]" >&2
	exit 2
	;;
esac
