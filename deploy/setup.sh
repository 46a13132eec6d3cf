#!/usr/bin/env bash
# deploy/setup.sh — funcd's order system on Kubernetes: Knative Serving +
# Kourier, Dapr, Redis 7 (or Kafka), the checkout and order-processor
# functions, and the funcd binding that lets order-processor scale to zero
# while Dapr pub/sub still triggers it (deploy/README.md). On a new local kind
# cluster (default), or on the cluster of the current kube context.
#
# Usage (from anywhere; paths are relative to this script):
#   deploy/setup.sh                    binding variant on Redis Streams (default)
#   SUBSCRIBER=keda deploy/setup.sh    KEDA variant: order-processor as a
#                                      Deployment + daprd, scaled 0..N by KEDA
#   PUBSUB=kafka deploy/setup.sh       Kafka instead of Redis (binding variant)
#   CLUSTER=current REGISTRY=<registry>/<path> deploy/setup.sh
#                                      into the current kube context (minikube,
#                                      k3d, a cloud cluster...): no kind, no docker
#
# Other settings (environment):
#   CLUSTER=kind|current    a kind cluster setup.sh creates (default), or the
#                           cluster of the current kube context (KUBE_CONTEXT
#                           names another context)
#   CLUSTER_NAME=funcd      kind cluster (must match deploy/kind/cluster.yaml)
#   REGISTRY=host[:port]/path   where function images are pushed and pulled
#                           from (kind: localhost:5001/funcd, the local registry)
#   REGISTRY_INSECURE=1     the registry speaks plain HTTP (kind's does)
#   FUNC=/path/to/func      Knative func CLI v0.44.0 (default: func on PATH;
#                           tools/build.sh builds it: eval "$(tools/build.sh --env)")
#   DEPLOY_WITH=manifests   functions from deploy/knative/*.yaml with the images
#                           func build made (default); DEPLOY_WITH=func: with
#                           `func deploy`, from each function's func.yaml
#   SKIP_BUILD=1            do not build images; deploy what IMAGE_TAG names
#   IMAGE_TAG=<tag>         with SKIP_BUILD=1: the tag to deploy
# Offline or air-gapped installs (release files and images you already have):
#   KNATIVE_MANIFESTS=DIR   serving-crds.yaml, serving-core.yaml (and
#                           kourier.yaml) from DIR instead of the release downloads
#   INGRESS_CLASS=CLASS     use a Knative ingress the cluster already has
#                           instead of installing Kourier
#   INGRESS_URL=URL         where that ingress is reached (for the printed curl)
#   DOMAIN=DOMAIN           Knative's config-domain (kind: 127.0.0.1.sslip.io)
#   DAPR_CHART=PATH         the dapr chart folder or .tgz (e.g. charts/dapr in
#                           the github.com/dapr/dapr module) instead of the helm repo
#   DAPR_REGISTRY=REG       with DAPR_CHART: its images' registry (global.registry)
#   DAPR_HELM_ARGS="..."    more helm arguments for Dapr (e.g. --set k=v)
#   KEDA_MANIFEST=FILE      KEDA's release manifest instead of the download
#   REDIS_IMAGE / KAFKA_IMAGE   the broker image instead of the manifest's
# Traces (deploy/README.md "Traces on the cluster"); off unless one of the
# first two is set, and then nothing about tracing is applied:
#   TRACING=jaeger          deploy Jaeger v2 too (deploy/tracing/jaeger.yaml,
#                           memory storage, UI and API on port 16686) and send
#                           every hop's spans there
#   TRACING_ENDPOINT=URL    send them to your own OTLP/HTTP collector instead:
#                           its base URL, e.g. http://otel-collector.observability:4318
#                           (the OTEL_EXPORTER_OTLP_ENDPOINT form; /v1/traces is added)
#   TRACING_SAMPLING_RATE=1 the fraction of new traces recorded, 0 to 1 (a
#                           request's sampled traceparent is always followed)
#   JAEGER_IMAGE=REF        with TRACING=jaeger: the image instead of the manifest's
#
# Idempotent: every step checks what exists or uses apply / upgrade --install,
# so a second run converges instead of failing. Images are tagged with a hash
# of their source: unchanged functions are neither rebuilt nor redeployed.
# Needs: kubectl, curl, func, and helm or the dapr CLI; with CLUSTER=kind also
# docker and kind.
set -euo pipefail

# --- Pinned versions ---------------------------------------------------------
# Knative Serving and net-kourier come from the same release. v1.23.0 is
# knative.dev/serving v0.50.0, the API version deploy/validate checks the
# manifests with.
KNATIVE_VERSION=v1.23.0
# Dapr control plane (helm chart or dapr CLI); the runtime the e2e tests build
# daprd from (github.com/dapr/dapr v1.16.0 in go.mod).
DAPR_VERSION=1.16.0
# KEDA, only for SUBSCRIBER=keda; the API version deploy/validate checks the
# ScaledObject with (github.com/kedacore/keda/v2 v2.21.0).
KEDA_VERSION=v2.21.0
# kind whose default node image deploy/kind/cluster.yaml pins (Kubernetes v1.37.0).
KIND_VERSION=v0.33.0
# The only func CLI the module proxy serves; tools/func builds it.
FUNC_VERSION=v0.44.0
# The local registry container (kind's documented local-registry setup).
REGISTRY_IMAGE=docker.io/library/registry:3.0.0
# Jaeger for TRACING=jaeger (deploy/tracing/jaeger.yaml): v2.13.0 is the
# github.com/jaegertracing/jaeger v1.76.0 module tools/jaeger builds.
JAEGER_VERSION=2.13.0

# --- Settings ----------------------------------------------------------------
CLUSTER=${CLUSTER:-kind}
CLUSTER_NAME=${CLUSTER_NAME:-funcd}
KUBE_CONTEXT=${KUBE_CONTEXT:-}
SUBSCRIBER=${SUBSCRIBER:-binding}
PUBSUB=${PUBSUB:-redis}
SKIP_BUILD=${SKIP_BUILD:-}
IMAGE_TAG=${IMAGE_TAG:-}
DEPLOY_WITH=${DEPLOY_WITH:-manifests}
FUNC=${FUNC:-$(command -v func || true)}
KNATIVE_MANIFESTS=${KNATIVE_MANIFESTS:-}
INGRESS_CLASS=${INGRESS_CLASS:-}
INGRESS_URL=${INGRESS_URL:-}
DAPR_CHART=${DAPR_CHART:-}
DAPR_REGISTRY=${DAPR_REGISTRY:-}
DAPR_HELM_ARGS=${DAPR_HELM_ARGS:-}
KEDA_MANIFEST=${KEDA_MANIFEST:-}
REDIS_IMAGE=${REDIS_IMAGE:-}
KAFKA_IMAGE=${KAFKA_IMAGE:-}
TRACING=${TRACING:-}
TRACING_ENDPOINT=${TRACING_ENDPOINT:-}
TRACING_SAMPLING_RATE=${TRACING_SAMPLING_RATE:-1}
JAEGER_IMAGE=${JAEGER_IMAGE:-}

REG_NAME=kind-registry
REG_PORT=5001
NS=default # the manifests' URLs and hosts assume the default namespace
INGRESS_HOST_PORT=80 # deploy/kind/cluster.yaml extraPortMappings hostPort
if [[ $CLUSTER == kind ]]; then
	# Images are pushed here from this machine; the kind node pulls the same
	# name, mapped to the registry container (step "local registry").
	REGISTRY=${REGISTRY:-localhost:${REG_PORT}/funcd}
	REGISTRY_INSECURE=${REGISTRY_INSECURE:-1}
	CONTEXT=kind-${CLUSTER_NAME}
	DOMAIN=${DOMAIN:-127.0.0.1.sslip.io}
else
	REGISTRY=${REGISTRY:-}
	REGISTRY_INSECURE=${REGISTRY_INSECURE:-}
	CONTEXT=${KUBE_CONTEXT:-$(kubectl config current-context 2>/dev/null || true)}
	DOMAIN=${DOMAIN:-}
fi

DEPLOY=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$DEPLOY/.." && pwd)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/funcd-setup.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

# --- Helpers -----------------------------------------------------------------
START=$SECONDS
STEP=0
step() {
	STEP=$((STEP + 1))
	printf '\n==> [%d] %s  (+%ds)\n' "$STEP" "$*" "$((SECONDS - START))"
}
info() { printf '    %s\n' "$*"; }
die() {
	printf 'setup: %s\n' "$*" >&2
	exit 1
}
k() { kubectl --context "$CONTEXT" "$@"; }
need() { command -v "$1" >/dev/null 2>&1 || die "$1 is required: $2"; }
sha256() { if command -v sha256sum >/dev/null 2>&1; then sha256sum; else shasum -a 256; fi | cut -c1-64; }

# apply_url URL: kubectl apply a release manifest, retried (GitHub downloads
# and freshly started webhooks both fail transiently).
apply_url() {
	local i
	for i in 1 2 3; do
		if k apply -f "$1"; then return 0; fi
		info "apply $1 failed (attempt $i), retrying in 10s"
		sleep 10
	done
	die "could not apply $1"
}

# wait_deployments NS: every Deployment in NS is Available.
wait_deployments() {
	k wait deployment --all -n "$1" --for=condition=Available --timeout=10m
}

# release FILE URL: FILE from $KNATIVE_MANIFESTS when set, else URL.
release() {
	if [[ -n $KNATIVE_MANIFESTS ]]; then
		[[ -f $KNATIVE_MANIFESTS/$1 ]] || die "KNATIVE_MANIFESTS=$KNATIVE_MANIFESTS has no $1"
		echo "$KNATIVE_MANIFESTS/$1"
	else
		echo "$2/$1"
	fi
}

# apply_broker: the broker's manifest, with its image replaced when asked
# (REDIS_IMAGE, KAFKA_IMAGE).
apply_broker() {
	local file=$DEPLOY/brokers/${PUBSUB}.yaml img
	case $PUBSUB in redis) img=$REDIS_IMAGE ;; kafka) img=$KAFKA_IMAGE ;; esac
	if [[ -n $img ]]; then
		info "image ${img}"
		k apply -n "$NS" -f <(sed -E "s#^([[:space:]]*image:[[:space:]]*).*#\\1${img}#" "$file")
	else
		k apply -n "$NS" -f "$file"
	fi
}

# tag_of FUNCTION: the image tag to deploy (step "images" records them).
tag_of() {
	if [[ -n $SKIP_BUILD ]]; then echo "$IMAGE_TAG"; else cat "$WORK/tags/$1"; fi
}

# with_images FILE: FILE with each localhost:5001/funcd/<fn>:latest image set
# to the tag built for <fn> (func deploy builds and deploys its own).
with_images() {
	local script=() fn
	for fn in "${FUNCTIONS[@]}"; do
		func_deployed "$fn" && continue
		script+=(-e "s#image: localhost:${REG_PORT}/funcd/${fn}:latest#image: ${REGISTRY}/${fn}:$(tag_of "$fn")#")
	done
	sed "${script[@]}" "$1"
}

# --- Traces (TRACING, TRACING_ENDPOINT) -----------------------------------------
# The label on what setup.sh creates for tracing (the Dapr Configuration,
# Jaeger), and the annotation on Knative's config-observability once it set
# the tracing keys there: a run without tracing removes exactly these.
TRACING_KEY=funcd.dev/tracing
# The Dapr Configuration the Dapr-enabled pods name (dapr.io/config).
TRACING_CONFIG=tracing

# otel_envs FUNCTION: the OTEL_* environment of a function (and the binding),
# NAME=VALUE lines: the OpenTelemetry SDK's standard variables, read by the
# binding (/tracing.go) and by any function that sets up the SDK.
otel_envs() {
	printf '%s\n' \
		"OTEL_EXPORTER_OTLP_ENDPOINT=${TRACING_ENDPOINT}" \
		"OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf" \
		"OTEL_SERVICE_NAME=$1" \
		"OTEL_TRACES_SAMPLER=parentbased_traceidratio" \
		"OTEL_TRACES_SAMPLER_ARG=${TRACING_SAMPLING_RATE}"
}

# with_tracing FUNCTION: a manifest on stdin, when tracing is on with
# `dapr.io/config` next to each `dapr.io/enabled: "true"` and the OTEL_*
# variables at the head of each container's env list; else unchanged.
with_tracing() {
	if [[ -z $TRACING_ENDPOINT ]]; then
		cat
		return
	fi
	OTEL_ENVS=$(otel_envs "$1") CONFIG=$TRACING_CONFIG awk '
		{ print }
		/^ *dapr\.io\/enabled: "true"$/ {
			match($0, /^ */)
			printf "%sdapr.io/config: %s\n", substr($0, 1, RLENGTH), ENVIRON["CONFIG"]
		}
		/^ *env:$/ {
			match($0, /^ */)
			n = split(ENVIRON["OTEL_ENVS"], kv, "\n")
			for (i = 1; i <= n; i++) {
				eq = index(kv[i], "=")
				printf "%s  - name: %s\n%s    value: \"%s\"\n", substr($0, 1, RLENGTH), substr(kv[i], 1, eq - 1), substr($0, 1, RLENGTH), substr(kv[i], eq + 1)
			}
		}'
}

# tracing_func_yaml FILE FUNCTION: the same for func deploy, in a staged
# func.yaml: dapr.io/config in deploy.annotations (when Dapr is enabled there)
# and the OTEL_* variables in run.envs.
tracing_func_yaml() {
	local dapr=0
	grep -q 'dapr.io/enabled: "true"' "$1" && dapr=1
	OTEL_ENVS=$(otel_envs "$2") CONFIG=$TRACING_CONFIG awk -v dapr="$dapr" '
		function envs(   n, i, kv, eq) {
			n = split(ENVIRON["OTEL_ENVS"], kv, "\n")
			for (i = 1; i <= n; i++) {
				eq = index(kv[i], "=")
				printf "  - name: %s\n    value: \"%s\"\n", substr(kv[i], 1, eq - 1), substr(kv[i], eq + 1)
			}
		}
		# First pass: is there a run section, with an envs list?
		NR == FNR {
			if ($0 ~ /^[^ #]/) section = $0
			if (section ~ /^run:/) { run = 1; if ($0 ~ /^  envs:/) runenvs = 1 }
			next
		}
		$0 ~ /^[^ #]/ { section = $0 }
		{ print }
		section ~ /^run:/ && /^run:/ && !runenvs { print "  envs:"; envs() }
		section ~ /^run:/ && /^  envs:/ { envs() }
		section ~ /^deploy:/ && /^  annotations:/ && dapr { printf "    dapr.io/config: %s\n", ENVIRON["CONFIG"] }
		END { if (!run) { print "run:"; print "  envs:"; envs() } }
	' "$1" "$1" >"$1.tracing"
	mv "$1.tracing" "$1"
}

# apply_jaeger: deploy/tracing/jaeger.yaml, its image replaced when asked
# (JAEGER_IMAGE) and a checksum of the file on the pod template, so a changed
# configuration restarts it.
apply_jaeger() {
	local file=$DEPLOY/tracing/jaeger.yaml sum script=()
	sum=$(sha256 <"$file" | cut -c1-16)
	script=(-e "s#funcd.dev/config-checksum: \"unset\"#funcd.dev/config-checksum: \"${sum}\"#")
	if [[ -n $JAEGER_IMAGE ]]; then
		info "image ${JAEGER_IMAGE}"
		script+=(-e "s#^([[:space:]]*image:[[:space:]]*).*#\\1${JAEGER_IMAGE}#")
	fi
	k apply -n "$NS" -f <(sed -E "${script[@]}" "$file")
}

# restart_activator: Knative's activator reads config-observability's
# tracing keys once, when it starts (knative.dev/serving v0.50
# cmd/activator: its watch of the map updates request logs and pprof only),
# so a change of them takes a restart.
restart_activator() {
	k rollout restart deployment/activator -n knative-serving
	k rollout status deployment/activator -n knative-serving --timeout=5m
}

# tracing_configuration: deploy/tracing/configuration.yaml for
# TRACING_ENDPOINT and TRACING_SAMPLING_RATE.
tracing_configuration() {
	sed -E -e "s#^([[:space:]]*endpointAddress:).*#\\1 ${TRACING_HOSTPORT}#" \
		-e "s#^([[:space:]]*isSecure:).*#\\1 ${TRACING_SECURE}#" \
		-e "s#^([[:space:]]*samplingRate:).*#\\1 \"${TRACING_SAMPLING_RATE}\"#" \
		"$DEPLOY/tracing/configuration.yaml"
}

# --- Checks ------------------------------------------------------------------
case $SUBSCRIBER in binding | keda) ;; *) die "SUBSCRIBER must be binding or keda, got '$SUBSCRIBER'" ;; esac
case $PUBSUB in redis | kafka) ;; *) die "PUBSUB must be redis or kafka, got '$PUBSUB'" ;; esac
if [[ $SUBSCRIBER == keda && $PUBSUB == kafka ]]; then
	die "SUBSCRIBER=keda scales on Redis stream lag (deploy/keda/scaledobject.yaml); use PUBSUB=redis"
fi
case $CLUSTER in kind | current) ;; *) die "CLUSTER must be kind or current, got '$CLUSTER'" ;; esac
case $DEPLOY_WITH in manifests | func) ;; *) die "DEPLOY_WITH must be manifests or func, got '$DEPLOY_WITH'" ;; esac
if [[ -n $SKIP_BUILD && -z $IMAGE_TAG ]]; then
	die "SKIP_BUILD=1 needs IMAGE_TAG (the tag of images already in ${REGISTRY:-the registry})"
fi
if [[ -n $SKIP_BUILD && $DEPLOY_WITH == func ]]; then
	die "DEPLOY_WITH=func builds with func deploy; it does not take SKIP_BUILD"
fi
if [[ $CLUSTER == current && -z $REGISTRY ]]; then
	die "CLUSTER=current needs REGISTRY: a registry the cluster pulls from and you can push to (e.g. REGISTRY=ghcr.io/you/funcd)"
fi
if [[ -n $DAPR_REGISTRY && -z $DAPR_CHART ]]; then
	die "DAPR_REGISTRY is for a local chart: set DAPR_CHART too"
fi
case $TRACING in "" | jaeger) ;; *) die "TRACING must be jaeger (or unset), got '$TRACING'" ;; esac
if [[ $TRACING == jaeger && -n $TRACING_ENDPOINT ]]; then
	die "TRACING=jaeger sends the traces to the Jaeger it deploys, TRACING_ENDPOINT to a collector of yours: set one"
fi
[[ $TRACING_SAMPLING_RATE =~ ^(0|0?\.[0-9]+|1|1\.0*)$ ]] ||
	die "TRACING_SAMPLING_RATE must be a number from 0 to 1, got '$TRACING_SAMPLING_RATE'"
[[ $TRACING == jaeger ]] && TRACING_ENDPOINT=http://jaeger.${NS}.svc.cluster.local:4318
if [[ -n $TRACING_ENDPOINT ]]; then
	# daprd wants host:port and whether it is TLS; Knative and the OTel SDKs
	# take the URL.
	[[ $TRACING_ENDPOINT =~ ^(http|https)://([^/:]+:[0-9]+)/?$ ]] ||
		die "TRACING_ENDPOINT must be an OTLP/HTTP base URL with scheme, host and port and no path, e.g. http://otel-collector.observability:4318; got '$TRACING_ENDPOINT'"
	TRACING_ENDPOINT=${TRACING_ENDPOINT%/}
	TRACING_HOSTPORT=${BASH_REMATCH[2]}
	TRACING_SECURE=false
	[[ ${BASH_REMATCH[1]} == http ]] || TRACING_SECURE=true
fi

step "checking tools"
need kubectl "https://kubernetes.io/docs/tasks/tools/"
need curl "apt-get install curl"
if [[ $CLUSTER == kind ]]; then
	need docker "https://docs.docker.com/engine/install/"
	need kind "go install sigs.k8s.io/kind@${KIND_VERSION}"
	docker info >/dev/null 2>&1 || die "docker is installed but the daemon does not answer (docker info)"
else
	[[ -n $CONTEXT ]] || die "CLUSTER=current: kubectl has no current context (set KUBE_CONTEXT)"
	k cluster-info >/dev/null 2>&1 || die "CLUSTER=current: the cluster of context ${CONTEXT} does not answer (kubectl --context ${CONTEXT} cluster-info)"
fi
[[ $DEPLOY_WITH == manifests || -n $FUNC ]] ||
	die "DEPLOY_WITH=func needs the Knative func CLI ${FUNC_VERSION} (FUNC or func on PATH)"
[[ -n $SKIP_BUILD || -n $FUNC ]] ||
	die "the Knative func CLI ${FUNC_VERSION} is required: build it with tools/build.sh func, then eval \"\$(tools/build.sh --env)\" (or set FUNC)"
if command -v helm >/dev/null 2>&1; then
	DAPR_INSTALLER=helm
elif command -v dapr >/dev/null 2>&1; then
	DAPR_INSTALLER=dapr
else
	die "helm or the dapr CLI is required to install Dapr ${DAPR_VERSION}"
fi
if [[ $CLUSTER == kind ]]; then
	info "kind:    $(kind version)"
	[[ $(kind version) == *"${KIND_VERSION} "* ]] ||
		info "warning: kind ${KIND_VERSION} is the tested version; the node image is pinned in kind/cluster.yaml either way"
else
	info "cluster: context ${CONTEXT}; images to ${REGISTRY}"
fi
info "kubectl: $(kubectl version --client 2>/dev/null | head -n1)"
[[ -n $SKIP_BUILD ]] || info "func:    $FUNC ($("$FUNC" version 2>/dev/null || echo 'version unknown'); ${FUNC_VERSION} expected)"
info "Dapr via ${DAPR_INSTALLER}; subscriber: ${SUBSCRIBER}; pub/sub: ${PUBSUB}"

# --- 1, 2. kind: local registry and cluster -----------------------------------
kind_registry() {
	step "local registry ${REG_NAME} on 127.0.0.1:${REG_PORT}"
	if [[ $(docker inspect -f '{{.State.Running}}' "$REG_NAME" 2>/dev/null || true) == true ]]; then
		info "already running"
	elif docker inspect "$REG_NAME" >/dev/null 2>&1; then
		docker start "$REG_NAME" >/dev/null
		info "started the existing container"
	else
		docker run -d --restart=always -p "127.0.0.1:${REG_PORT}:5000" --network bridge \
			--name "$REG_NAME" "$REGISTRY_IMAGE" >/dev/null
		info "created from ${REGISTRY_IMAGE}"
	fi
}

kind_cluster() {
	step "kind cluster ${CLUSTER_NAME}"
	if kind get clusters 2>/dev/null | grep -qx "$CLUSTER_NAME"; then
		info "already exists"
	else
		kind create cluster --name "$CLUSTER_NAME" --config "$DEPLOY/kind/cluster.yaml" --wait 5m
	fi
	kubectl config use-context "$CONTEXT" >/dev/null
	# localhost:5001 on the node is the node itself: point containerd at the
	# registry container instead, and put the registry on kind's network.
	for node in $(kind get nodes --name "$CLUSTER_NAME"); do
		docker exec "$node" mkdir -p "/etc/containerd/certs.d/localhost:${REG_PORT}"
		printf '[host."http://%s:5000"]\n' "$REG_NAME" |
			docker exec -i "$node" cp /dev/stdin "/etc/containerd/certs.d/localhost:${REG_PORT}/hosts.toml"
	done
	if [[ $(docker inspect -f '{{json .NetworkSettings.Networks.kind}}' "$REG_NAME") == null ]]; then
		docker network connect kind "$REG_NAME"
	fi
	k apply -f - <<EOF
apiVersion: v1
kind: ConfigMap
metadata:
  name: local-registry-hosting
  namespace: kube-public
data:
  localRegistryHosting.v1: |
    host: "localhost:${REG_PORT}"
    help: "https://kind.sigs.k8s.io/docs/user/local-registry/"
EOF
}

if [[ $CLUSTER == kind ]]; then
	kind_registry
	kind_cluster
else
	step "cluster: context ${CONTEXT} (no kind, no local registry)"
fi

# --- 3. Knative Serving + Kourier --------------------------------------------
step "Knative Serving ${KNATIVE_VERSION} with ${INGRESS_CLASS:-Kourier}${KNATIVE_MANIFESTS:+ (from $KNATIVE_MANIFESTS)}"
SERVING_URL=https://github.com/knative/serving/releases/download/knative-${KNATIVE_VERSION}
KOURIER_URL=https://github.com/knative/net-kourier/releases/download/knative-${KNATIVE_VERSION}
apply_url "$(release serving-crds.yaml "$SERVING_URL")"
k wait crd --all --for=condition=Established --timeout=2m
apply_url "$(release serving-core.yaml "$SERVING_URL")"
wait_deployments knative-serving
if [[ -n $INGRESS_CLASS ]]; then
	# The cluster brings its own Knative ingress.
	k patch configmap/config-network -n knative-serving --type merge \
		-p "{\"data\":{\"ingress-class\":\"${INGRESS_CLASS}\"}}"
else
	apply_url "$(release kourier.yaml "$KOURIER_URL")"
	wait_deployments kourier-system
	wait_deployments knative-serving
	# Knative routes through Kourier.
	k patch configmap/config-network -n knative-serving --type merge \
		-p '{"data":{"ingress-class":"kourier.ingress.networking.knative.dev"}}'
fi
if [[ $CLUSTER == kind && -z $INGRESS_CLASS ]]; then
# Kourier's gateway on node port 31080, which kind/cluster.yaml maps to
# 127.0.0.1:80 (as `kn quickstart kind` does).
k apply -f - <<'EOF'
apiVersion: v1
kind: Service
metadata:
  name: kourier-ingress
  namespace: kourier-system
  labels:
    networking.knative.dev/ingress-provider: kourier
spec:
  type: NodePort
  selector:
    app: 3scale-kourier-gateway
  ports:
    - name: http2
      nodePort: 31080
      port: 80
      targetPort: 8080
EOF
fi
if [[ -n $DOMAIN ]]; then
	# kind: URLs are <service>.<namespace>.127.0.0.1.sslip.io, which resolve
	# to 127.0.0.1.
	k patch configmap/config-domain -n knative-serving --type merge -p "{\"data\":{\"${DOMAIN}\":\"\"}}"
fi
if [[ $CLUSTER == kind ]]; then
	# Knative resolves image tags to digests by asking the registry from inside
	# the controller pod, where localhost:5001 is nothing: skip it for the local
	# registry (the tags are content hashes, see "build").
	k patch configmap/config-deployment -n knative-serving --type merge \
		-p "{\"data\":{\"registries-skipping-tag-resolving\":\"kind.local,ko.local,dev.local,localhost:${REG_PORT}\"}}"
fi

# --- 4. Dapr -----------------------------------------------------------------
step "Dapr ${DAPR_VERSION} (${DAPR_INSTALLER}${DAPR_CHART:+ from $DAPR_CHART})"
# shellcheck disable=SC2206 # extra helm arguments, split on spaces
helm_args=($DAPR_HELM_ARGS)
if [[ -n $DAPR_CHART ]]; then
	[[ $DAPR_INSTALLER == helm ]] || die "DAPR_CHART needs helm"
	[[ -e $DAPR_CHART ]] || die "DAPR_CHART=$DAPR_CHART does not exist"
	[[ -z $DAPR_REGISTRY ]] || helm_args+=(--set "global.registry=${DAPR_REGISTRY}")
	helm upgrade --install dapr "$DAPR_CHART" --set "global.tag=${DAPR_VERSION}" \
		--kube-context "$CONTEXT" --namespace dapr-system --create-namespace \
		--set global.ha.enabled=false "${helm_args[@]}" --wait --timeout 10m
elif [[ $DAPR_INSTALLER == helm ]]; then
	helm repo add dapr https://dapr.github.io/helm-charts/ --force-update >/dev/null
	helm upgrade --install dapr dapr/dapr --version "$DAPR_VERSION" \
		--kube-context "$CONTEXT" --namespace dapr-system --create-namespace \
		--set global.ha.enabled=false "${helm_args[@]}" --wait --timeout 10m
elif k get deployment dapr-operator -n dapr-system >/dev/null 2>&1; then
	have=$(k get deployment dapr-operator -n dapr-system -o jsonpath='{.spec.template.spec.containers[0].image}')
	info "already installed: $have"
	[[ $have == *":${DAPR_VERSION}"* ]] ||
		die "Dapr is installed at another version; run: dapr upgrade -k --runtime-version ${DAPR_VERSION}"
else
	dapr init -k --runtime-version "$DAPR_VERSION" --wait --timeout 600
fi
wait_deployments dapr-system

# --- 5. KEDA (KEDA variant only) ---------------------------------------------
if [[ $SUBSCRIBER == keda ]]; then
	step "KEDA ${KEDA_VERSION}"
	# Server-side apply: the KEDA CRDs are too large for client-side apply's
	# last-applied annotation.
	k apply --server-side --force-conflicts \
		-f "${KEDA_MANIFEST:-https://github.com/kedacore/keda/releases/download/${KEDA_VERSION}/keda-${KEDA_VERSION#v}.yaml}"
	wait_deployments keda
fi

# --- 6. Broker ---------------------------------------------------------------
step "broker: ${PUBSUB}"
apply_broker
k rollout status -n "$NS" "deployment/${PUBSUB}" --timeout=5m

# --- 7. Dapr resources -------------------------------------------------------
step "Dapr resources (orderpubsub, Resiliency, Subscription)"
if [[ $PUBSUB == kafka ]]; then
	PUBSUB_FILE=$DEPLOY/dapr/kafka/pubsub.yaml
elif [[ $SUBSCRIBER == keda ]]; then
	PUBSUB_FILE=$DEPLOY/keda/pubsub.yaml
else
	PUBSUB_FILE=$DEPLOY/dapr/pubsub.yaml
fi
info "orderpubsub from ${PUBSUB_FILE#"$REPO"/}"
k apply -n "$NS" -f "$PUBSUB_FILE" -f "$DEPLOY/dapr/resiliency.yaml"
if [[ $SUBSCRIBER == binding ]]; then
	# The binding reads its Subscriptions from files: every *.yaml directly in
	# deploy/dapr, with pubsub.yaml swapped for the chosen broker. The
	# Subscription is NOT applied to the cluster in this variant: the
	# binding's stream is the only subscriber.
	k delete subscription.dapr.io order-processor-orders -n "$NS" --ignore-not-found
	mkdir -p "$WORK/resources"
	cp "$DEPLOY"/dapr/*.yaml "$WORK/resources/"
	cp "$PUBSUB_FILE" "$WORK/resources/pubsub.yaml"
	k create configmap funcd-binding-resources -n "$NS" --from-file="$WORK/resources" \
		--dry-run=client -o yaml | k apply -f -
	RESOURCES_SUM=$(cat "$WORK"/resources/*.yaml | sha256 | cut -c1-16)
	info "binding resources: $(cd "$WORK/resources" && echo *.yaml) (sha256 ${RESOURCES_SUM})"
else
	# daprd next to the order-processor Deployment subscribes itself.
	k apply -n "$NS" -f "$DEPLOY/dapr/subscription.yaml"
fi

# --- 8. Traces ----------------------------------------------------------------
if [[ -n $TRACING_ENDPOINT ]]; then
	step "traces to ${TRACING_ENDPOINT}${TRACING:+ (Jaeger ${JAEGER_VERSION}, deployed here)}"
	if [[ $TRACING == jaeger ]]; then
		apply_jaeger
		k rollout status -n "$NS" deployment/jaeger --timeout=5m
	else
		# A Jaeger an earlier run deployed is no longer where traces go.
		k delete deployment,service,configmap -n "$NS" -l "${TRACING_KEY}=jaeger" --ignore-not-found
	fi
	# daprd: the Configuration the Dapr-enabled pods name (dapr.io/config);
	# it reads it when it starts.
	k apply -n "$NS" -f <(tracing_configuration)
	# Knative: the activator's and queue-proxy's spans (queue-proxy reads the
	# settings when its revision is made, so before the functions; the
	# activator when it starts, so it restarts when they change).
	traced=$(k get configmap/config-observability -n knative-serving -o 'jsonpath={.data.tracing-endpoint} {.data.tracing-sampling-rate}' 2>/dev/null || true)
	k patch configmap/config-observability -n knative-serving --type merge -p "{\"metadata\":{\"annotations\":{\"${TRACING_KEY}\":\"setup.sh\"}},\"data\":{\"tracing-protocol\":\"http/protobuf\",\"tracing-endpoint\":\"${TRACING_ENDPOINT}/v1/traces\",\"tracing-sampling-rate\":\"${TRACING_SAMPLING_RATE}\"}}"
	[[ $traced == "${TRACING_ENDPOINT}/v1/traces ${TRACING_SAMPLING_RATE}" ]] || restart_activator
	info "daprd: Configuration ${TRACING_CONFIG} (otel http ${TRACING_HOSTPORT}, samplingRate ${TRACING_SAMPLING_RATE}); Knative: config-observability; functions: OTEL_EXPORTER_OTLP_ENDPOINT=${TRACING_ENDPOINT}"
elif [[ $(k get configmap/config-observability -n knative-serving -o 'jsonpath={.metadata.annotations.funcd\.dev/tracing}' 2>/dev/null || true) == setup.sh ]]; then
	# An earlier run turned tracing on: turn it off again (what this run
	# deploys names no Configuration; Jaeger and the Configuration go once
	# the functions run without them, step "functions").
	step "traces: off (an earlier run had turned them on)"
	k patch configmap/config-observability -n knative-serving --type merge -p "{\"metadata\":{\"annotations\":{\"${TRACING_KEY}\":null}},\"data\":{\"tracing-protocol\":null,\"tracing-endpoint\":null,\"tracing-sampling-rate\":null}}"
	restart_activator
	TRACING_OFF=1
fi

# --- 9. Build the function images --------------------------------------------
# Each function is built from a copy, so `func build` writes neither .func/
# nor func.yaml in the checkout. The root binding imports its own packages,
# which func v0.44.0 builds only when the module path is "function" (fixed
# upstream, knative/func PR #2769): its copy gets the path rewritten, as the
# e2e tests do (e2e/tools_functions_test.go rootFunctionCopy).
stage_function() { # src dst
	mkdir -p "$2"
	(cd "$1" && tar --exclude=./.func -cf - .) | (cd "$2" && tar -xf -)
}
stage_binding() { # dst
	local module
	mkdir -p "$1"
	(
		cd "$REPO"
		{
			printf '%s\n' func.yaml go.mod go.sum
			find . -maxdepth 1 -name '*.go' ! -name '*_test.go' | sed 's#^\./##'
			find runtime -name testdata -prune -o -type f -name '*.go' ! -name '*_test.go' -print
		} | tar -cf - -T -
	) | (cd "$1" && tar -xf -)
	module=$(awk '$1 == "module" { print $2; exit }' "$1/go.mod")
	# sed -i.orig works with GNU and BSD sed alike; then drop the backups.
	sed -i.orig "s#^module ${module}\$#module function#" "$1/go.mod"
	find "$1" -name '*.go' -exec sed -i.orig "s#\"${module}/#\"function/#g" {} +
	find "$1" -name '*.orig' -exec rm {} +
}
# source_hash DIR: a hash of the file names and contents under DIR.
source_hash() {
	(
		cd "$1"
		find . -type f | LC_ALL=C sort
		find . -type f -print0 | LC_ALL=C sort -z | xargs -0 cat
	) | sha256 | cut -c1-12
}
# in_registry NAME TAG: the registry already has NAME:TAG.
in_registry() {
	local host=${REGISTRY%%/*} path="" scheme=https
	[[ $REGISTRY != */* ]] || path=${REGISTRY#*/}/
	[[ -z $REGISTRY_INSECURE ]] || scheme=http
	curl -fsS -o /dev/null \
		-H 'Accept: application/vnd.oci.image.index.v1+json' \
		-H 'Accept: application/vnd.oci.image.manifest.v1+json' \
		-H 'Accept: application/vnd.docker.distribution.manifest.list.v2+json' \
		-H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
		"${scheme}://${host}/v2/${path}$1/manifests/$2" 2>/dev/null
}
# stage FUNCTION: the copy func builds FUNCTION from, in $WORK/src.
stage() {
	[[ -d $WORK/src/$1 ]] && return
	if [[ $1 == funcd-binding ]]; then
		stage_binding "$WORK/src/$1"
	else
		stage_function "$REPO/functions/$1" "$WORK/src/$1"
	fi
}
# func_flags: what func build and func deploy are given about the registry.
func_flags() {
	[[ -z $REGISTRY_INSECURE ]] || echo --registry-insecure
}

FUNCTIONS=(checkout order-processor)
[[ $SUBSCRIBER == binding ]] && FUNCTIONS+=(funcd-binding)
# Knative Services func deploy makes (DEPLOY_WITH=func); the KEDA variant's
# order-processor is a Deployment, deployed from its manifest either way.
FUNC_DEPLOYED=()
if [[ $DEPLOY_WITH == func ]]; then
	FUNC_DEPLOYED=(checkout)
	[[ $SUBSCRIBER == binding ]] && FUNC_DEPLOYED+=(order-processor funcd-binding)
fi
func_deployed() { [[ " ${FUNC_DEPLOYED[*]} " == *" $1 "* ]]; }

if [[ -n $SKIP_BUILD ]]; then
	step "images: using tag ${IMAGE_TAG} (SKIP_BUILD)"
	for fn in "${FUNCTIONS[@]}"; do
		in_registry "$fn" "$IMAGE_TAG" || die "${REGISTRY}/${fn}:${IMAGE_TAG} is not in the registry"
	done
else
	step "images: func build --builder=host, pushed to ${REGISTRY}"
	mkdir -p "$WORK/tags"
	for fn in "${FUNCTIONS[@]}"; do
		if func_deployed "$fn"; then
			info "$fn: func deploy builds it (step functions)"
			continue
		fi
		stage "$fn"
		# The tag is a hash of the function's source: an unchanged function
		# is not rebuilt, and its Knative Service gets no new revision.
		tag=src-$(source_hash "$WORK/src/$fn")
		echo "$tag" >"$WORK/tags/$fn"
		ref=${REGISTRY}/${fn}:${tag}
		if in_registry "$fn" "$tag"; then
			info "$ref: already built"
			continue
		fi
		info "building $ref"
		t0=$SECONDS
		(
			cd "$WORK/src/$fn"
			# GOFLAGS=-mod=mod: func's generated go.mod lists only func-go.
			# shellcheck disable=SC2046 # func_flags prints zero or one flag
			FUNC_ENABLE_HOST_BUILDER=true GOFLAGS=-mod=mod \
				"$FUNC" build --builder=host --image "$ref" --push $(func_flags)
		)
		in_registry "$fn" "$tag" || die "func build reported success but ${ref} is not in the registry"
		info "$ref: built and pushed in $((SECONDS - t0))s"
	done
fi

# --- 10. Deploy the functions ------------------------------------------------
# A kubeconfig with the one context, for func (which has no --context).
k config view --minify --flatten >"$WORK/kubeconfig"
# deploy FUNCTION MANIFEST: with func deploy (from func.yaml), or the
# manifest with the built image and the resources checksum filled in.
deploy() {
	local t0=$SECONDS
	if ! func_deployed "$1"; then
		k apply -n "$NS" -f <(with_images "$2" |
			sed "s#funcd.dev/resources-checksum: \"unset\"#funcd.dev/resources-checksum: \"${RESOURCES_SUM:-}\"#" |
			with_tracing "$1")
		return
	fi
	stage "$1"
	[[ -z $TRACING_ENDPOINT ]] || tracing_func_yaml "$WORK/src/$1/func.yaml" "$1"
	info "func deploy $1 (builds, pushes to ${REGISTRY}, waits for the Service)"
	(
		cd "$WORK/src/$1"
		# shellcheck disable=SC2046 # func_flags prints zero or one flag
		KUBECONFIG=$WORK/kubeconfig FUNC_ENABLE_HOST_BUILDER=true GOFLAGS=-mod=mod \
			"$FUNC" deploy --builder=host --registry "$REGISTRY" $(func_flags) --namespace "$NS"
	)
	info "$1: deployed in $((SECONDS - t0))s"
}
step "functions (${SUBSCRIBER} variant, with ${DEPLOY_WITH})"
deploy checkout "$DEPLOY/knative/checkout.yaml"
if [[ $SUBSCRIBER == binding ]]; then
	k delete scaledobject.keda.sh order-processor -n "$NS" --ignore-not-found 2>/dev/null || true
	k delete deployment order-processor -n "$NS" --ignore-not-found
	deploy order-processor "$DEPLOY/knative/order-processor.yaml"
	deploy funcd-binding "$DEPLOY/knative/funcd-binding.yaml"
	k wait ksvc/checkout ksvc/order-processor ksvc/funcd-binding -n "$NS" --for=condition=Ready --timeout=10m
else
	k delete ksvc funcd-binding order-processor -n "$NS" --ignore-not-found
	k delete configmap funcd-binding-resources -n "$NS" --ignore-not-found
	k apply -n "$NS" -f <(with_images "$DEPLOY/keda/order-processor.yaml" | with_tracing order-processor)
	k apply -n "$NS" -f "$DEPLOY/keda/scaledobject.yaml"
	k wait ksvc/checkout -n "$NS" --for=condition=Ready --timeout=10m
	k wait scaledobject.keda.sh/order-processor -n "$NS" --for=condition=Ready --timeout=5m
fi
k get ksvc -n "$NS"
if [[ -n ${TRACING_OFF:-} ]]; then
	# Nothing names them any more.
	k delete configuration.dapr.io,deployment,service,configmap -n "$NS" -l "$TRACING_KEY" --ignore-not-found
fi

# --- Done --------------------------------------------------------------------
CHECKOUT_HOST=$(k get ksvc checkout -n "$NS" -o jsonpath='{.status.url}' 2>/dev/null || true)
CHECKOUT_HOST=${CHECKOUT_HOST#http*://}
CHECKOUT_HOST=${CHECKOUT_HOST:-checkout.${NS}.${DOMAIN:-example.com}}
if [[ -n $INGRESS_URL ]]; then
	URL=${INGRESS_URL%/}/
	HOST_HEADER=" -H 'Host: ${CHECKOUT_HOST}'"
elif [[ $CLUSTER == kind ]]; then
	HOSTPORT=""
	[[ $INGRESS_HOST_PORT == 80 ]] || HOSTPORT=":${INGRESS_HOST_PORT}"
	URL=http://${CHECKOUT_HOST}${HOSTPORT}/
	HOST_HEADER=""
else
	URL="http://<the ingress address: kubectl get svc -n kourier-system kourier>/"
	HOST_HEADER=" -H 'Host: ${CHECKOUT_HOST}'"
fi
cat <<EOF

==> ready in $((SECONDS - START))s

Place an order through the ingress (a binary-mode CloudEvent):

  curl -i ${URL}${HOST_HEADER} \\
    -H 'ce-specversion: 1.0' -H 'ce-id: order-1' -H 'ce-source: /curl' \\
    -H 'ce-type: com.example.order' -H 'Content-Type: application/json' \\
    -d '{"orderId":1,"customerName":"Ada","amount":42.5}'

EOF
if [[ $CLUSTER == kind ]]; then
	echo "  (no DNS for sslip.io? use http://127.0.0.1${HOSTPORT}/ with -H 'Host: ${CHECKOUT_HOST}')"
	echo
fi
if [[ $TRACING == jaeger ]]; then
	cat <<EOF
Traces: every hop exports to Jaeger (the most recent 5,000 traces, in memory).
Add -H 'traceparent: 00-<32 hex trace id>-<16 hex>-01' and the same value as
-H 'ce-traceparent: ...' to the curl to choose the trace id, then:

  kubectl port-forward -n ${NS} svc/jaeger 16686:16686
  open http://localhost:16686 (service checkout), or
  curl http://localhost:16686/api/traces/<trace id>

EOF
elif [[ -n $TRACING_ENDPOINT ]]; then
	cat <<EOF
Traces: every hop exports to ${TRACING_ENDPOINT} (OTLP/HTTP). Add
-H 'traceparent: 00-<32 hex trace id>-<16 hex>-01' and the same value as
-H 'ce-traceparent: ...' to the curl, and search your backend for that id.

EOF
fi
if [[ $SUBSCRIBER == binding ]]; then
	cat <<EOF
Watch order-processor go to zero (about 90 s after the last order: the 60 s
stable window, then its 30 s retention) and wake on the next order:

  kubectl get pods -l serving.knative.dev/service=order-processor -w
  kubectl logs -f -l serving.knative.dev/service=order-processor -c user-container
  kubectl logs -f -l serving.knative.dev/service=funcd-binding -c user-container
EOF
else
	cat <<EOF
Watch KEDA scale order-processor on the stream lag (to zero 60 s after the
lag is gone, back to one within the 5 s polling interval of the next order):

  kubectl get deployment order-processor -w
  kubectl get scaledobject order-processor
  kubectl logs -f deployment/order-processor -c order-processor
EOF
fi
