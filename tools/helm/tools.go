//go:build tools

// Package tools pins helm in this module's go.mod; nothing imports it.
package tools

import _ "helm.sh/helm/v3/cmd/helm"
