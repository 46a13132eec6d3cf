//go:build tools

// Package tools pins the daprd command in this module's go.mod; nothing
// imports it. Build with ../build.sh.
package tools

import _ "github.com/dapr/dapr/cmd/daprd"
