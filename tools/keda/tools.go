//go:build tools

// Package tools pins KEDA's commands in this module's go.mod; nothing
// imports it. Build with ../build.sh.
package tools

import (
	_ "github.com/kedacore/keda/v2/cmd/adapter"
	_ "github.com/kedacore/keda/v2/cmd/operator"
	_ "github.com/kedacore/keda/v2/cmd/webhooks"
)
