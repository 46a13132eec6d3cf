package delivery

import (
	"fmt"
	"log/slog"
	"maps"
	"math"
	"strings"
	"sync"
	"time"

	"github.com/funcd/funcd/runtime/resources"
)

// Policy is how deliveries from one component to one function are retried,
// timed out and protected: daprd's inbound component policy.
type Policy struct {
	Retry RetryPolicy
	// Timeout bounds one attempt.
	Timeout time.Duration
	// Breaker, when set, refuses attempts while open.
	Breaker *Breaker
	// Source says where the policy comes from, for messages.
	Source string
	// TimeoutGiven is true when a Resiliency timeout policy (or the
	// binding's configuration) sets Timeout, which is then never lowered.
	TimeoutGiven bool
}

// Budget is the longest a delivery under p can hold a message: every
// attempt running into its timeout, every wait between them at its
// largest. Unlimited retries stop starting attempts after MaxElapsed
// (DefaultMaxElapsed when zero), so the last one may end a Timeout later.
func (p Policy) Budget() time.Duration {
	if p.Retry.Unlimited() {
		return SatAdd(p.Retry.MaxElapsedOrDefault(), p.Timeout)
	}
	attempts := float64(p.Retry.MaxRetries) + 1
	return SatAdd(clampDuration(attempts*float64(p.Timeout)), p.Retry.MaxBackoff())
}

// minFittedTimeout is the shortest per-attempt timeout the default is
// lowered to; a redelivery timeout that leaves less is reported instead.
const minFittedTimeout = time.Second

// fitted returns p with its timeout lowered, in steps of 100ms, to the
// longest with which Budget plus extra stays within room; false when that
// would be under minFittedTimeout.
func (p Policy) Fitted(room, extra time.Duration) (Policy, bool) {
	room -= extra
	var t time.Duration
	if p.Retry.Unlimited() {
		t = room - p.Retry.MaxElapsedOrDefault()
	} else {
		t = (room - p.Retry.MaxBackoff()) / time.Duration(p.Retry.MaxRetries+1)
	}
	t = t.Truncate(100 * time.Millisecond)
	if t >= p.Timeout {
		return p, true
	}
	if t < minFittedTimeout {
		return p, false
	}
	p.Timeout = t
	return p, true
}

// describeBudget spells out how Budget adds up.
func (p Policy) DescribeBudget() string {
	if p.Retry.Unlimited() {
		return fmt.Sprintf("unlimited retries stop after %s, and the last attempt may take its timeout, %s", p.Retry.MaxElapsedOrDefault(), p.Timeout)
	}
	return fmt.Sprintf("%d attempts × %s timeout + up to %s of backoff", p.Retry.MaxRetries+1, p.Timeout, p.Retry.MaxBackoff().Round(time.Millisecond))
}

func SatAdd(a, b time.Duration) time.Duration {
	if a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}

// ComponentKind is a component type as daprd's default policy names spell
// it (Default<Kind>ComponentInboundRetryPolicy).
type ComponentKind string

const (
	PubSubKind  ComponentKind = "Pubsub"
	BindingKind ComponentKind = "Binding"
)

// Dapr's exponential backoff (dapr/kit retry.DefaultConfig, cenkalti/backoff
// defaults): only maxInterval is configurable in a Resiliency resource.
const (
	exponentialInitial    = 500 * time.Millisecond
	exponentialMultiplier = 1.5
	exponentialJitter     = 0.5
)

// Policies resolves inbound policies from Dapr Resiliency resources. Circuit
// breakers are kept per component, function and policy, as daprd keeps one
// per component in each app's sidecar.
type Policies struct {
	res      []resources.Resiliency
	defaults Policy
	log      *slog.Logger

	mu       sync.Mutex
	breakers map[string]*Breaker
}

// NewPolicies returns the policies of res; parts no resource gives use
// defaults.
func NewPolicies(res []resources.Resiliency, defaults Policy, log *slog.Logger) *Policies {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Policies{res: res, defaults: defaults, log: log, breakers: map[string]*Breaker{}}
}

// merged is the Resiliency resources that apply to one app, merged in file
// order as daprd merges them (a later name wins).
type merged struct {
	timeouts map[string]time.Duration
	retries  map[string]resources.Retry
	breakers map[string]resources.CircuitBreaker
	targets  map[string]resources.PolicyNames // inbound, by component
	files    map[string]string                // component -> file naming it
}

func (p *Policies) merge(app string) merged {
	m := merged{timeouts: map[string]time.Duration{}, retries: map[string]resources.Retry{},
		breakers: map[string]resources.CircuitBreaker{}, targets: map[string]resources.PolicyNames{}, files: map[string]string{}}
	for _, r := range p.res {
		if !r.AppliesTo(app) {
			continue
		}
		maps.Copy(m.timeouts, r.Timeouts)
		maps.Copy(m.retries, r.Retries)
		maps.Copy(m.breakers, r.CircuitBreakers)
		for k, v := range r.Components {
			m.targets[k], m.files[k] = v.Inbound, r.File
		}
	}
	return m
}

// Inbound returns the policy for deliveries from component (of kind) to the
// function app, like daprd's ComponentInboundPolicy in app's sidecar: the
// component's inbound target names the policies; an untargeted component
// gets Dapr's default policies (Default<Kind>ComponentInboundRetryPolicy,
// DefaultComponentInboundRetryPolicy, DefaultComponentRetryPolicy,
// DefaultRetryPolicy, and the same for Timeout and CircuitBreaker). Each of
// retry, timeout and breaker that no resource gives keeps the default.
func (p *Policies) Inbound(component string, kind ComponentKind, app string) (Policy, error) {
	m := p.merge(app)
	names, targeted := m.targets[component]
	where := fmt.Sprintf("resiliency for component %s (app %s)", component, app)
	source := "the binding's default policy"
	if targeted {
		where = fmt.Sprintf("%s: targets.components.%s.inbound (app %s)", m.files[component], component, app)
		source = where
	} else if names = m.defaultNames(kind); names != (resources.PolicyNames{}) {
		source = fmt.Sprintf("Dapr's default policies %s (app %s)", joinNames(names), app)
	}
	pol, err := p.apply(m, names, component+"-"+app)
	if err != nil {
		return Policy{}, fmt.Errorf("%s: %w", where, err)
	}
	pol.Source = source
	return pol, nil
}

// apply sets the named policies over the defaults; key names the breaker
// instance.
func (p *Policies) apply(m merged, names resources.PolicyNames, key string) (Policy, error) {
	pol := p.defaults
	if names.Timeout != "" {
		t, ok := m.timeouts[names.Timeout]
		if !ok {
			return Policy{}, fmt.Errorf("timeout policy %q is not defined for this app", names.Timeout)
		}
		pol.Timeout, pol.TimeoutGiven = t, true
	}
	if names.Retry != "" {
		r, ok := m.retries[names.Retry]
		switch {
		case !ok:
			return Policy{}, fmt.Errorf("retry policy %q is not defined for this app", names.Retry)
		case r.Matching != nil:
			return Policy{}, fmt.Errorf("retry policy %q: matching is not supported here; the outcome table decides what is retried", names.Retry)
		}
		pol.Retry = FromDapr(r)
	}
	if names.CircuitBreaker != "" {
		spec, ok := m.breakers[names.CircuitBreaker]
		if !ok {
			return Policy{}, fmt.Errorf("circuit breaker policy %q is not defined for this app", names.CircuitBreaker)
		}
		b, err := p.breaker(names.CircuitBreaker+"-"+key, spec)
		if err != nil {
			return Policy{}, fmt.Errorf("circuit breaker policy %q: %w", names.CircuitBreaker, err)
		}
		pol.Breaker = b
	}
	return pol, nil
}

// joinNames lists the policy names that are set.
func joinNames(n resources.PolicyNames) string {
	var set []string
	for _, v := range []string{n.Timeout, n.Retry, n.CircuitBreaker} {
		if v != "" {
			set = append(set, v)
		}
	}
	return strings.Join(set, ", ")
}

func (m merged) defaultNames(kind ComponentKind) resources.PolicyNames {
	levels := []string{string(kind) + "ComponentInbound", "ComponentInbound", "Component", ""}
	first := func(exists func(string) bool, what string) string {
		for _, l := range levels {
			if name := "Default" + l + what + "Policy"; exists(name) {
				return name
			}
		}
		return ""
	}
	return resources.PolicyNames{
		Retry:          first(func(n string) bool { _, ok := m.retries[n]; return ok }, "Retry"),
		Timeout:        first(func(n string) bool { _, ok := m.timeouts[n]; return ok }, "Timeout"),
		CircuitBreaker: first(func(n string) bool { _, ok := m.breakers[n]; return ok }, "CircuitBreaker"),
	}
}

func (p *Policies) breaker(key string, spec resources.CircuitBreaker) (*Breaker, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if b, ok := p.breakers[key]; ok {
		return b, nil
	}
	b, err := NewBreaker(key, spec, p.log)
	if err != nil {
		return nil, err
	}
	p.breakers[key] = b
	return b, nil
}

// FromDapr maps a Resiliency retry policy onto a RetryPolicy: constant waits
// Duration between retries; exponential starts at 500ms, grows 1.5x up to
// MaxInterval, ±50% jitter (Dapr's fixed backoff parameters).
func FromDapr(r resources.Retry) RetryPolicy {
	if r.Policy == resources.RetryExponential {
		initial := min(exponentialInitial, r.MaxInterval)
		return RetryPolicy{MaxRetries: r.MaxRetries, Initial: initial, Max: r.MaxInterval,
			Multiplier: exponentialMultiplier, Jitter: exponentialJitter}
	}
	return RetryPolicy{MaxRetries: r.MaxRetries, Initial: r.Duration, Max: r.Duration, Multiplier: 1}
}
