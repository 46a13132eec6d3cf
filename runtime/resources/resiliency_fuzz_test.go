package resources

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzResiliency feeds Parse arbitrary Resiliency documents: it must not
// panic, every error must name the file, and what it accepts must hold
// daprd's invariants with defaults applied.
func FuzzResiliency(f *testing.F) {
	if data, err := os.ReadFile(filepath.Join("..", "..", "components", "examples", "resiliency.yaml")); err == nil {
		f.Add(data)
	}
	for _, s := range []string{
		resiliencyYAML,
		resiliency("r", "  policies:\n    retries:\n      r: {policy: EXPONENTIAL, maxInterval: \"10\", maxRetries: -1}\n"),
		resiliency("r", "  policies:\n    timeouts: {t: 1h, u: \"0\", v: -5s}\n"),
		resiliency("r", "  policies:\n    circuitBreakers:\n      cb: {maxRequests: 4294967296, interval: 1ms, trip: \"\"}\n"),
		resiliency("r", "  policies:\n    retries:\n      r: {matching: {httpStatusCodes: \"500-599\"}}\n"),
		resiliency("r", "  targets:\n    actors:\n      a: {circuitBreakerScope: id, circuitBreakerCacheSize: 5}\n    apps:\n      b: {retry: x}\n"),
		resiliency("r", "  policies: null\n  targets: []\n"),
		resiliency("r", "  policies:\n    retries: {r: null}\n"),
		"apiVersion: dapr.io/v1alpha1\nkind: Resiliency\nmetadata: {name: r}\nspec: 7\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		set, err := Parse("fuzz.yaml", data, nil)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.yaml: ") {
				t.Fatalf("got error %q, want it to start with the file name", err)
			}
			return
		}
		for _, r := range set.Resiliencies {
			checkResiliency(t, r)
		}
		_ = set.Validate() // must not panic either
	})
}

func checkResiliency(t *testing.T, r Resiliency) {
	t.Helper()
	if r.Name == "" || r.File != "fuzz.yaml" {
		t.Fatalf("accepted %+v without a name or file", r)
	}
	for name, d := range r.Timeouts {
		if d <= 0 {
			t.Fatalf("accepted timeout %s = %v", name, d)
		}
	}
	for name, rt := range r.Retries {
		if (rt.Policy != RetryConstant && rt.Policy != RetryExponential) || rt.Duration <= 0 ||
			rt.MaxInterval <= 0 || rt.MaxRetries < UnlimitedRetries {
			t.Fatalf("accepted retry %s = %+v", name, rt)
		}
	}
	for name, cb := range r.CircuitBreakers {
		if cb.Interval < 0 || cb.Timeout < 0 {
			t.Fatalf("accepted circuit breaker %s = %+v", name, cb)
		}
	}
}
