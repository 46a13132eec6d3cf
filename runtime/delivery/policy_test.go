package delivery

import (
	"strings"
	"testing"
	"time"

	"github.com/funcd/funcd/runtime/resources"
)

func TestFromDapr(t *testing.T) {
	tests := []struct {
		name string
		in   resources.Retry
		want RetryPolicy
	}{
		{"constant", resources.Retry{Policy: "constant", Duration: time.Second, MaxInterval: time.Minute, MaxRetries: 3},
			RetryPolicy{MaxRetries: 3, Initial: time.Second, Max: time.Second, Multiplier: 1}},
		{"constant unlimited", resources.Retry{Policy: "constant", Duration: 5 * time.Second, MaxRetries: -1},
			RetryPolicy{MaxRetries: -1, Initial: 5 * time.Second, Max: 5 * time.Second, Multiplier: 1}},
		{"exponential", resources.Retry{Policy: "exponential", Duration: 5 * time.Second, MaxInterval: 15 * time.Second, MaxRetries: 10},
			RetryPolicy{MaxRetries: 10, Initial: 500 * time.Millisecond, Max: 15 * time.Second, Multiplier: 1.5, Jitter: 0.5}},
		{"exponential with a small cap", resources.Retry{Policy: "exponential", MaxInterval: 100 * time.Millisecond},
			RetryPolicy{Initial: 100 * time.Millisecond, Max: 100 * time.Millisecond, Multiplier: 1.5, Jitter: 0.5}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := FromDapr(tt.in)
			if got != tt.want {
				t.Errorf("FromDapr(%+v) = %+v, want %+v", tt.in, got, tt.want)
			}
			if err := got.Validate(); err != nil {
				t.Errorf("Validate() = %v, want nil", err)
			}
		})
	}
}

// res is a Resiliency resource with one of each policy, targeting targets.
func res(name string, scopes []string, targets map[string]resources.PolicyNames) resources.Resiliency {
	r := resources.Resiliency{
		Name: name, File: name + ".yaml", Scopes: scopes,
		Timeouts:        map[string]time.Duration{"t": 3 * time.Second, "DefaultTimeoutPolicy": 4 * time.Second},
		Retries:         map[string]resources.Retry{"r": {Policy: "constant", Duration: time.Second, MaxRetries: 2}},
		CircuitBreakers: map[string]resources.CircuitBreaker{"cb": {Trip: "consecutiveFailures > 2"}},
		Components:      map[string]resources.ComponentPolicies{},
	}
	for comp, names := range targets {
		r.Components[comp] = resources.ComponentPolicies{Inbound: names}
	}
	return r
}

func TestInbound(t *testing.T) {
	defaults := Policy{Retry: DefaultRetryPolicy, Timeout: 30 * time.Second}
	constant2 := RetryPolicy{MaxRetries: 2, Initial: time.Second, Max: time.Second, Multiplier: 1}
	all := resources.PolicyNames{Retry: "r", Timeout: "t", CircuitBreaker: "cb"}
	tests := []struct {
		name        string
		res         []resources.Resiliency
		app         string
		wantRetry   RetryPolicy
		wantTimeout time.Duration
		wantBreaker bool
	}{
		{name: "no resiliency", wantRetry: DefaultRetryPolicy, wantTimeout: 30 * time.Second},
		{name: "targeted component", res: []resources.Resiliency{res("a", nil, map[string]resources.PolicyNames{"orderpubsub": all})},
			wantRetry: constant2, wantTimeout: 3 * time.Second, wantBreaker: true},
		{name: "only a retry keeps the default timeout", res: []resources.Resiliency{res("a", nil, map[string]resources.PolicyNames{"orderpubsub": {Retry: "r"}})},
			wantRetry: constant2, wantTimeout: 30 * time.Second},
		{name: "other component: Dapr's default policies", res: []resources.Resiliency{res("a", nil, map[string]resources.PolicyNames{"other": all})},
			wantRetry: DefaultRetryPolicy, wantTimeout: 4 * time.Second},
		{name: "scoped to the app", app: "order-processor", res: []resources.Resiliency{res("a", []string{"order-processor"}, map[string]resources.PolicyNames{"orderpubsub": all})},
			wantRetry: constant2, wantTimeout: 3 * time.Second, wantBreaker: true},
		{name: "scoped to another app", app: "audit", res: []resources.Resiliency{res("a", []string{"order-processor"}, map[string]resources.PolicyNames{"orderpubsub": all})},
			wantRetry: DefaultRetryPolicy, wantTimeout: 30 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			app := tt.app
			if app == "" {
				app = "order-processor"
			}
			got, err := NewPolicies(tt.res, defaults, nil).Inbound("orderpubsub", PubSubKind, app)
			if err != nil {
				t.Fatalf("Inbound: %v", err)
			}
			if got.Retry != tt.wantRetry || got.Timeout != tt.wantTimeout || (got.Breaker != nil) != tt.wantBreaker {
				t.Errorf("got retry %+v timeout %v breaker %v, want %+v %v %v",
					got.Retry, got.Timeout, got.Breaker != nil, tt.wantRetry, tt.wantTimeout, tt.wantBreaker)
			}
		})
	}
}

func TestInboundDefaultPolicyNames(t *testing.T) {
	r := resources.Resiliency{Name: "d", Retries: map[string]resources.Retry{
		"DefaultRetryPolicy":                       {Policy: "constant", Duration: time.Second, MaxRetries: 1},
		"DefaultComponentRetryPolicy":              {Policy: "constant", Duration: time.Second, MaxRetries: 2},
		"DefaultPubsubComponentInboundRetryPolicy": {Policy: "constant", Duration: time.Second, MaxRetries: 3},
	}}
	p := NewPolicies([]resources.Resiliency{r}, Policy{Retry: DefaultRetryPolicy}, nil)
	for kind, want := range map[ComponentKind]int{PubSubKind: 3, BindingKind: 2} {
		got, err := p.Inbound("c", kind, "app")
		if err != nil || got.Retry.MaxRetries != want {
			t.Errorf("Inbound(%s): got %d retries (%v), want %d: the most specific default wins", kind, got.Retry.MaxRetries, err, want)
		}
	}
}

func TestInboundErrors(t *testing.T) {
	withTrip := func(trip string) resources.Resiliency {
		r := res("a", nil, map[string]resources.PolicyNames{"orderpubsub": {CircuitBreaker: "cb"}})
		r.CircuitBreakers["cb"] = resources.CircuitBreaker{Trip: trip}
		return r
	}
	matching := res("a", nil, map[string]resources.PolicyNames{"orderpubsub": {Retry: "r"}})
	matching.Retries["r"] = resources.Retry{Policy: "constant", Duration: time.Second, Matching: &resources.RetryMatching{HTTPStatusCodes: "500"}}
	tests := []struct {
		name    string
		res     []resources.Resiliency
		wantErr []string
	}{
		{name: "policy defined only for another app",
			res: []resources.Resiliency{
				{Name: "p", Scopes: []string{"other"}, Retries: map[string]resources.Retry{"x": {Policy: "constant", Duration: time.Second}}},
				{Name: "t", File: "t.yaml", Components: map[string]resources.ComponentPolicies{"orderpubsub": {Inbound: resources.PolicyNames{Retry: "x"}}}},
			},
			wantErr: []string{"t.yaml", "targets.components.orderpubsub.inbound", `retry policy "x" is not defined`}},
		{name: "matching", res: []resources.Resiliency{matching}, wantErr: []string{"matching is not supported"}},
		{name: "trip syntax", res: []resources.Resiliency{withTrip("consecutiveFailures >")}, wantErr: []string{`circuit breaker policy "cb"`, "trip"}},
		{name: "trip with a misspelt count", res: []resources.Resiliency{withTrip("consecutiveFailure > 5")}, wantErr: []string{"trip", "consecutiveFailures"}},
		{name: "trip not boolean", res: []resources.Resiliency{withTrip("requests + 1")}, wantErr: []string{"not a boolean"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewPolicies(tt.res, Policy{}, nil).Inbound("orderpubsub", PubSubKind, "order-processor")
			if err == nil {
				t.Fatal("Inbound = nil error, want one")
			}
			for _, want := range tt.wantErr {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("got error %q, want it to contain %q", err, want)
				}
			}
		})
	}
}

func TestInboundSharesBreakerPerComponentAndApp(t *testing.T) {
	p := NewPolicies([]resources.Resiliency{res("a", nil, map[string]resources.PolicyNames{"orderpubsub": {CircuitBreaker: "cb"}})}, Policy{}, nil)
	a1, _ := p.Inbound("orderpubsub", PubSubKind, "a")
	a2, _ := p.Inbound("orderpubsub", PubSubKind, "a")
	b, _ := p.Inbound("orderpubsub", PubSubKind, "b")
	if a1.Breaker == nil || a1.Breaker != a2.Breaker || a1.Breaker == b.Breaker {
		t.Errorf("got breakers %p %p %p, want one per component and app", a1.Breaker, a2.Breaker, b.Breaker)
	}
}
