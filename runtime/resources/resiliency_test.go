package resources

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// resiliencyYAML is the shape of Dapr's documentation example, aimed at the
// orders component.
const resiliencyYAML = `apiVersion: dapr.io/v1alpha1
kind: Resiliency
metadata:
  name: orders-resiliency
scopes: [order-processor]
spec:
  policies:
    timeouts:
      general: 5s
      quick: 500 # milliseconds, as daprd reads a bare number
    retries:
      pubsubRetry:
        policy: constant
        duration: 1s
        maxRetries: 10
      retryForever:
        policy: Exponential
        maxInterval: 15s
      defaults: {}
    circuitBreakers:
      pubsubCB:
        maxRequests: 1
        interval: 8s
        timeout: 45s
        trip: consecutiveFailures > 8
  targets:
    apps:
      checkout:
        timeout: general
        retry: retryForever
        circuitBreakerCacheSize: 50
    actors:
      cart:
        timeout: general
        circuitBreakerScope: both
    components:
      orderpubsub:
        inbound:
          timeout: general
          retry: pubsubRetry
          circuitBreaker: pubsubCB
        outbound:
          retry: retryForever
`

func TestParseResiliency(t *testing.T) {
	set, err := Parse("r.yaml", []byte(resiliencyYAML), nil)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if len(set.Resiliencies) != 1 {
		t.Fatalf("got %d resiliencies, want 1", len(set.Resiliencies))
	}
	want := Resiliency{
		Name:     "orders-resiliency",
		Timeouts: map[string]time.Duration{"general": 5 * time.Second, "quick": 500 * time.Millisecond},
		Retries: map[string]Retry{
			"pubsubRetry":  {Policy: RetryConstant, Duration: time.Second, MaxInterval: DefaultRetryMaxInterval, MaxRetries: 10},
			"retryForever": {Policy: RetryExponential, Duration: DefaultRetryDuration, MaxInterval: 15 * time.Second, MaxRetries: UnlimitedRetries},
			"defaults":     {Policy: RetryConstant, Duration: DefaultRetryDuration, MaxInterval: DefaultRetryMaxInterval, MaxRetries: UnlimitedRetries},
		},
		CircuitBreakers: map[string]CircuitBreaker{
			"pubsubCB": {MaxRequests: 1, Interval: 8 * time.Second, Timeout: 45 * time.Second, Trip: "consecutiveFailures > 8"},
		},
		Components: map[string]ComponentPolicies{"orderpubsub": {
			Inbound:  PolicyNames{Timeout: "general", Retry: "pubsubRetry", CircuitBreaker: "pubsubCB"},
			Outbound: PolicyNames{Retry: "retryForever"},
		}},
		Apps:   map[string]PolicyNames{"checkout": {Timeout: "general", Retry: "retryForever"}},
		Actors: map[string]PolicyNames{"cart": {Timeout: "general"}},
		Scopes: []string{"order-processor"},
		File:   "r.yaml",
	}
	if got := set.Resiliencies[0]; !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
	if err := set.Validate(); err != nil {
		t.Errorf("Validate: got %v, want nil", err)
	}
}

func TestResiliencyAppliesTo(t *testing.T) {
	tests := []struct {
		name   string
		scopes []string
		app    string
		want   bool
	}{
		{"unscoped", nil, "order-processor", true},
		{"in scope", []string{"checkout", "order-processor"}, "order-processor", true},
		{"out of scope", []string{"checkout"}, "order-processor", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := (Resiliency{Scopes: tt.scopes}).AppliesTo(tt.app); got != tt.want {
				t.Errorf("AppliesTo(%q): got %v, want %v", tt.app, got, tt.want)
			}
		})
	}
}

// resiliency returns a Resiliency document with spec as its spec.
func resiliency(name, spec string) string {
	return "apiVersion: dapr.io/v1alpha1\nkind: Resiliency\nmetadata:\n  name: " + name + "\nspec:\n" + spec
}

func TestParseResiliencyErrors(t *testing.T) {
	tests := []struct {
		name    string
		yaml    string
		wantErr []string
		invalid bool
	}{
		{name: "no name", yaml: resiliency(`""`, "  policies: {}\n"), wantErr: []string{"metadata.name is required"}, invalid: true},
		{name: "unknown policy kind", yaml: resiliency("r", "  policies:\n    retries:\n      r1: {policy: linear}\n"),
			wantErr: []string{`resiliency "r"`, "spec.policies.retries.r1.policy", `"linear"`}, invalid: true},
		{name: "bad retry duration", yaml: resiliency("r", "  policies:\n    retries:\n      r1: {duration: soon}\n"),
			wantErr: []string{"spec.policies.retries.r1.duration", `"soon"`}, invalid: true},
		{name: "zero retry duration", yaml: resiliency("r", "  policies:\n    retries:\n      r1: {duration: 0s}\n"),
			wantErr: []string{"spec.policies.retries.r1.duration"}, invalid: true},
		{name: "bad maxInterval", yaml: resiliency("r", "  policies:\n    retries:\n      r1: {policy: exponential, maxInterval: -1s}\n"),
			wantErr: []string{"spec.policies.retries.r1.maxInterval"}, invalid: true},
		{name: "maxRetries below -1", yaml: resiliency("r", "  policies:\n    retries:\n      r1: {maxRetries: -2}\n"),
			wantErr: []string{"spec.policies.retries.r1.maxRetries", "-1 (unlimited)"}, invalid: true},
		{name: "maxRetries not a number", yaml: resiliency("r", "  policies:\n    retries:\n      r1: {maxRetries: many}\n"),
			wantErr: []string{"maxRetries"}},
		{name: "bad timeout", yaml: resiliency("r", "  policies:\n    timeouts:\n      general: forever\n"),
			wantErr: []string{"spec.policies.timeouts.general", `"forever"`}, invalid: true},
		{name: "zero timeout", yaml: resiliency("r", "  policies:\n    timeouts:\n      general: 0s\n"),
			wantErr: []string{"spec.policies.timeouts.general"}, invalid: true},
		{name: "negative maxRequests", yaml: resiliency("r", "  policies:\n    circuitBreakers:\n      cb: {maxRequests: -1}\n"),
			wantErr: []string{"spec.policies.circuitBreakers.cb.maxRequests"}, invalid: true},
		{name: "bad breaker timeout", yaml: resiliency("r", "  policies:\n    circuitBreakers:\n      cb: {timeout: later}\n"),
			wantErr: []string{"spec.policies.circuitBreakers.cb.timeout"}, invalid: true},
		{name: "unknown retry field", yaml: resiliency("r", "  policies:\n    retries:\n      r1: {initialInterval: 1s}\n"),
			wantErr: []string{`unknown field "initialInterval"`}},
		{name: "unknown target kind", yaml: resiliency("r", "  targets:\n    bindings: {}\n"),
			wantErr: []string{`unknown field "bindings"`}},
		{name: "unknown component direction", yaml: resiliency("r", "  targets:\n    components:\n      ps: {input: {retry: r}}\n"),
			wantErr: []string{`unknown field "input"`}},
		{name: "unsupported apiVersion", yaml: strings.Replace(resiliency("r", "  policies: {}\n"), "v1alpha1", "v2", 1),
			wantErr: []string{`Resiliency "r"`, `apiVersion "dapr.io/v2" is not supported`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			set, err := Parse("dir/r.yaml", []byte(tt.yaml), nil)
			if err == nil {
				t.Fatalf("got %+v, want an error", set)
			}
			for _, want := range append([]string{"dir/r.yaml: "}, tt.wantErr...) {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("got error %q, want it to contain %q", err, want)
				}
			}
			if got := errors.Is(err, ErrInvalid); got != tt.invalid {
				t.Errorf("got errors.Is(err, ErrInvalid) = %v, want %v", got, tt.invalid)
			}
		})
	}
}

func TestValidateResiliencyReferences(t *testing.T) {
	policies := Resiliency{Name: "policies", File: "p.yaml",
		Retries: map[string]Retry{"r": {}}, Timeouts: map[string]time.Duration{"t": time.Second},
		CircuitBreakers: map[string]CircuitBreaker{"cb": {}}}
	target := func(names PolicyNames) Resiliency {
		return Resiliency{Name: "targets", File: "t.yaml", Components: map[string]ComponentPolicies{"ps": {Inbound: names}}}
	}
	tests := []struct {
		name    string
		res     []Resiliency
		wantErr []string
	}{
		{name: "names defined in another resource", res: []Resiliency{policies, target(PolicyNames{Retry: "r", Timeout: "t", CircuitBreaker: "cb"})}},
		{name: "missing retry", res: []Resiliency{policies, target(PolicyNames{Retry: "nope"})},
			wantErr: []string{"t.yaml", `resiliency "targets"`, "targets.components.ps.inbound", `retry policy "nope" is not defined`}},
		{name: "missing timeout", res: []Resiliency{target(PolicyNames{Timeout: "t"})},
			wantErr: []string{`timeout policy "t" is not defined`}},
		{name: "missing breaker", res: []Resiliency{target(PolicyNames{CircuitBreaker: "cb"})},
			wantErr: []string{`circuit breaker policy "cb" is not defined`}},
		{name: "missing outbound", res: []Resiliency{{Name: "x", File: "x.yaml", Components: map[string]ComponentPolicies{"ps": {Outbound: PolicyNames{Retry: "r"}}}}},
			wantErr: []string{"targets.components.ps.outbound"}},
		{name: "defined twice", res: []Resiliency{policies, policies},
			wantErr: []string{`resiliency "policies" is defined twice`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkValidate(t, (&Set{Resiliencies: tt.res}).Validate(), tt.wantErr)
		})
	}
}

// TestExampleResiliency keeps components/examples/resiliency.yaml valid.
func TestExampleResiliency(t *testing.T) {
	path := filepath.Join("..", "..", "components", "examples", "resiliency.yaml")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	set, err := Parse(path, data, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := set.Validate(); err != nil {
		t.Fatal(err)
	}
	r := set.Resiliencies[0]
	want := Retry{Policy: RetryExponential, Duration: DefaultRetryDuration, MaxInterval: 2 * time.Second, MaxRetries: 4}
	if got := r.Retries["orders"]; !reflect.DeepEqual(got, want) {
		t.Errorf("got retry %+v, want %+v", got, want)
	}
	if got := r.Components["orderpubsub"].Inbound; got != (PolicyNames{Timeout: "delivery", Retry: "orders", CircuitBreaker: "orders"}) {
		t.Errorf("got inbound %+v", got)
	}
}

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in      string
		want    time.Duration
		wantErr bool
	}{
		{"500", 500 * time.Millisecond, false},
		{"5s", 5 * time.Second, false},
		{"1m30s", 90 * time.Second, false},
		{"9223372036854775807", 0, true},
		{"soon", 0, true},
	}
	for _, tt := range tests {
		got, err := parseDuration(tt.in)
		if got != tt.want || (err != nil) != tt.wantErr {
			t.Errorf("parseDuration(%q) = %v, %v, want %v (error %v)", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}
