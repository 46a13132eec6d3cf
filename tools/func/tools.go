//go:build tools

// Package tools pins the func command in this module's go.mod; nothing
// imports it. Build with ../build.sh.
package tools

import _ "knative.dev/func/cmd/func"
