//go:build tools

// This file keeps knative.dev/func-go v0.22.0 in go.mod and go.sum, so
// funcbuild's tests build a function that requires a newer func-go than the
// scaffolding pins (functions need not require it at all).
package function

import (
	_ "knative.dev/func-go/cloudevents"
	_ "knative.dev/func-go/http"
)
