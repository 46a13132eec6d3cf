//go:build tools

// Package tools pins the cloudevents command in this module's go.mod;
// nothing imports it. Build with ../build.sh.
package tools

import _ "github.com/cloudevents/conformance/cmd/cloudevents"
