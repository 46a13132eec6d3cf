//go:build tools

// This file keeps knative.dev/func-go in go.mod and go.sum: the generated
// main package that wraps this function imports it.
package function

import (
	_ "knative.dev/func-go/cloudevents"
	_ "knative.dev/func-go/http"
)
