#!/usr/bin/env bash
# deploy/teardown.sh — remove what deploy/setup.sh created.
#
#   deploy/teardown.sh                   kind: the cluster (with everything in
#                                        it) and the local registry container
#   KEEP_REGISTRY=1 deploy/teardown.sh   kind: keep the registry and its images,
#                                        so the next setup.sh rebuilds nothing
#   CLUSTER=current deploy/teardown.sh   the cluster of the current kube context
#                                        (KUBE_CONTEXT names another): the
#                                        functions, the Dapr resources, the
#                                        broker and what TRACING set up (Jaeger,
#                                        Knative's tracing settings); the
#                                        cluster and its platform stay
#   CLUSTER=current REMOVE_PLATFORM=1 deploy/teardown.sh
#                                        also Dapr (helm uninstall), KEDA and
#                                        Knative Serving with Kourier
#   CLUSTER_NAME=funcd                   the kind cluster (as in setup.sh)
#
# Idempotent: what does not exist is skipped, and a second run succeeds.
set -euo pipefail

CLUSTER=${CLUSTER:-kind}
CLUSTER_NAME=${CLUSTER_NAME:-funcd}
REG_NAME=kind-registry
KEEP_REGISTRY=${KEEP_REGISTRY:-}
REMOVE_PLATFORM=${REMOVE_PLATFORM:-}
NS=default

die() {
	echo "teardown: $*" >&2
	exit 1
}

kind_teardown() {
	command -v kind >/dev/null 2>&1 || die "kind is required"
	command -v docker >/dev/null 2>&1 || die "docker is required"
	echo "==> kind cluster ${CLUSTER_NAME}"
	if kind get clusters 2>/dev/null | grep -qx "$CLUSTER_NAME"; then
		kind delete cluster --name "$CLUSTER_NAME"
	else
		echo "    not found"
	fi

	echo "==> local registry ${REG_NAME}"
	if [[ -n $KEEP_REGISTRY ]]; then
		echo "    kept (KEEP_REGISTRY is set)"
	elif docker inspect "$REG_NAME" >/dev/null 2>&1; then
		docker rm -f "$REG_NAME" >/dev/null
		echo "    removed"
	else
		echo "    not found"
	fi
}

current_teardown() {
	command -v kubectl >/dev/null 2>&1 || die "kubectl is required"
	local context=${KUBE_CONTEXT:-$(kubectl config current-context 2>/dev/null || true)}
	[[ -n $context ]] || die "kubectl has no current context (set KUBE_CONTEXT)"
	k() { kubectl --context "$context" "$@"; }

	echo "==> functions (context ${context})"
	k delete ksvc checkout order-processor funcd-binding -n "$NS" --ignore-not-found
	k delete scaledobject.keda.sh order-processor -n "$NS" --ignore-not-found 2>/dev/null || true
	k delete deployment order-processor -n "$NS" --ignore-not-found
	echo "==> Dapr resources and the binding's ConfigMap"
	k delete component.dapr.io orderpubsub -n "$NS" --ignore-not-found 2>/dev/null || true
	k delete resiliency.dapr.io orderpubsub-publish order-processor-deliveries -n "$NS" --ignore-not-found 2>/dev/null || true
	k delete subscription.dapr.io order-processor-orders -n "$NS" --ignore-not-found 2>/dev/null || true
	k delete configmap funcd-binding-resources -n "$NS" --ignore-not-found
	echo "==> broker"
	k delete deployment,service redis kafka -n "$NS" --ignore-not-found
	echo "==> traces (what setup.sh made for TRACING or TRACING_ENDPOINT)"
	k delete configuration.dapr.io -n "$NS" -l funcd.dev/tracing --ignore-not-found 2>/dev/null || true
	k delete deployment,service,configmap -n "$NS" -l funcd.dev/tracing --ignore-not-found
	if [[ $(k get configmap/config-observability -n knative-serving -o 'jsonpath={.metadata.annotations.funcd\.dev/tracing}' 2>/dev/null || true) == setup.sh ]]; then
		k patch configmap/config-observability -n knative-serving --type merge \
			-p '{"metadata":{"annotations":{"funcd.dev/tracing":null}},"data":{"tracing-protocol":null,"tracing-endpoint":null,"tracing-sampling-rate":null}}'
		# The activator reads them only when it starts.
		k rollout restart deployment/activator -n knative-serving
	fi

	if [[ -z $REMOVE_PLATFORM ]]; then
		echo "==> Knative, Dapr and KEDA stay (REMOVE_PLATFORM=1 removes them)"
		return
	fi
	echo "==> Dapr"
	if command -v helm >/dev/null 2>&1 && helm status dapr --kube-context "$context" -n dapr-system >/dev/null 2>&1; then
		helm uninstall dapr --kube-context "$context" -n dapr-system --wait
	else
		echo "    no helm release dapr in dapr-system"
	fi
	k delete namespace dapr-system --ignore-not-found
	echo "==> KEDA, Kourier, Knative Serving"
	# First what the API server calls into these namespaces: once their
	# services are gone, KEDA's metrics APIService and Knative's webhooks
	# would fail every discovery and every delete, and the namespaces
	# would stay Terminating for ever.
	k delete apiservice v1beta1.external.metrics.k8s.io --ignore-not-found
	k get mutatingwebhookconfiguration,validatingwebhookconfiguration -o name |
		grep -E 'knative|keda|dapr' | xargs -r kubectl --context "$context" delete --ignore-not-found
	# A namespace goes once its pods have: Knative's activator may take its
	# whole terminationGracePeriodSeconds (600 s) draining, its webhook 300 s
	# (serving's config/core/deployments); in make test-cluster it takes 200-220 s,
	# more on a busy machine.
	if ! k delete namespace keda kourier-system knative-serving --ignore-not-found --timeout=11m; then
		# Say why: a namespace's conditions name what it still waits for
		# (content with finalizers, an API group it cannot discover).
		local ns
		for ns in keda kourier-system knative-serving; do
			k get namespace "$ns" -o jsonpath="{range .status.conditions[?(@.status=='True')]}$ns: {.type}: {.message}{'\n'}{end}" 2>/dev/null || true
		done
		return 1
	fi
	local crd
	for crd in $(k get crd -o name | grep -E '\.(knative\.dev|keda\.sh|dapr\.io)$' || true); do
		k delete "$crd" --ignore-not-found --timeout=2m
	done
	k get clusterrole,clusterrolebinding -o name |
		grep -E 'knative|keda|dapr' | xargs -r kubectl --context "$context" delete --ignore-not-found
}

case $CLUSTER in
kind) kind_teardown ;;
current) current_teardown ;;
*) die "CLUSTER must be kind or current, got '$CLUSTER'" ;;
esac
