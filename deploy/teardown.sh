#!/usr/bin/env bash
# deploy/teardown.sh — remove what deploy/setup.sh created: the kind cluster
# (with everything in it) and the local registry container.
#
#   deploy/teardown.sh                   cluster and registry
#   KEEP_REGISTRY=1 deploy/teardown.sh   keep the registry and its images, so
#                                        the next setup.sh rebuilds nothing
#   CLUSTER_NAME=funcd                   the kind cluster (as in setup.sh)
#
# Idempotent: what does not exist is skipped, and a second run succeeds.
set -euo pipefail

CLUSTER_NAME=${CLUSTER_NAME:-funcd}
REG_NAME=kind-registry
KEEP_REGISTRY=${KEEP_REGISTRY:-}

command -v kind >/dev/null 2>&1 || { echo "teardown: kind is required" >&2; exit 1; }
command -v docker >/dev/null 2>&1 || { echo "teardown: docker is required" >&2; exit 1; }

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
