package resources

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"sigs.k8s.io/yaml"
)

// KindResiliency is Dapr's Resiliency resource (dapr.io/v1alpha1).
const KindResiliency = "Resiliency"

// Retry policy kinds, as daprd spells them (case-insensitive in YAML).
const (
	RetryConstant    = "constant"
	RetryExponential = "exponential"
)

// Defaults daprd applies to a retry policy (dapr/kit retry.DefaultConfig).
const (
	DefaultRetryDuration    = 5 * time.Second
	DefaultRetryMaxInterval = 60 * time.Second
	// UnlimitedRetries is maxRetries -1, daprd's default.
	UnlimitedRetries = -1
)

// Resiliency is a Dapr Resiliency resource with its durations parsed and
// daprd's defaults applied. Only targets.components inbound policies are
// run here; apps and actors targets are read and kept for completeness.
type Resiliency struct {
	Name            string
	Timeouts        map[string]time.Duration
	Retries         map[string]Retry
	CircuitBreakers map[string]CircuitBreaker
	// Components is targets.components: policy names per component.
	Components map[string]ComponentPolicies
	Apps       map[string]PolicyNames
	Actors     map[string]PolicyNames
	// Scopes lists the app IDs the resource applies to; empty means all.
	Scopes []string
	File   string
}

// Retry is one policies.retries entry.
type Retry struct {
	Policy string // RetryConstant or RetryExponential
	// Duration is the constant wait between retries.
	Duration time.Duration
	// MaxInterval caps exponential waits.
	MaxInterval time.Duration
	// MaxRetries counts retries after the first attempt; UnlimitedRetries
	// retries without bound.
	MaxRetries int
	// Matching restricts retries to some status codes in daprd.
	Matching *RetryMatching
}

// RetryMatching is a retry policy's matching block.
type RetryMatching struct {
	HTTPStatusCodes string `json:"httpStatusCodes,omitempty"`
	GRPCStatusCodes string `json:"gRPCStatusCodes,omitempty"`
}

// CircuitBreaker is one policies.circuitBreakers entry. Zero values mean
// gobreaker's defaults, as in daprd: MaxRequests 1, Interval 0 (counts are
// never cleared while closed), Timeout 60s, Trip "consecutiveFailures > 5".
type CircuitBreaker struct {
	MaxRequests uint32
	Interval    time.Duration
	Timeout     time.Duration
	// Trip is a CEL expression over requests, totalSuccesses,
	// totalFailures, consecutiveSuccesses and consecutiveFailures.
	Trip string
}

// ComponentPolicies is one targets.components entry.
type ComponentPolicies struct {
	Inbound  PolicyNames `json:"inbound,omitempty"`
	Outbound PolicyNames `json:"outbound,omitempty"`
}

// PolicyNames names the policies applied to a target.
type PolicyNames struct {
	Timeout        string `json:"timeout,omitempty"`
	Retry          string `json:"retry,omitempty"`
	CircuitBreaker string `json:"circuitBreaker,omitempty"`
}

type resiliencyDoc struct {
	header `json:",inline"`
	Spec   struct {
		Policies struct {
			Timeouts        map[string]string            `json:"timeouts,omitempty"`
			Retries         map[string]retryDoc          `json:"retries,omitempty"`
			CircuitBreakers map[string]circuitBreakerDoc `json:"circuitBreakers,omitempty"`
		} `json:"policies"`
		Targets struct {
			Apps       map[string]targetDoc         `json:"apps,omitempty"`
			Actors     map[string]targetDoc         `json:"actors,omitempty"`
			Components map[string]ComponentPolicies `json:"components,omitempty"`
		} `json:"targets"`
	} `json:"spec"`
	Scopes []string `json:"scopes,omitempty"`
}

type retryDoc struct {
	Policy      string         `json:"policy,omitempty"`
	Duration    string         `json:"duration,omitempty"`
	MaxInterval string         `json:"maxInterval,omitempty"`
	MaxRetries  *int           `json:"maxRetries,omitempty"`
	Matching    *RetryMatching `json:"matching,omitempty"`
}

type circuitBreakerDoc struct {
	MaxRequests int    `json:"maxRequests,omitempty"`
	Interval    string `json:"interval,omitempty"`
	Timeout     string `json:"timeout,omitempty"`
	Trip        string `json:"trip,omitempty"`
}

// targetDoc is an apps or actors target (the union of both schemas).
type targetDoc struct {
	PolicyNames             `json:",inline"`
	CircuitBreakerScope     string `json:"circuitBreakerScope,omitempty"`
	CircuitBreakerCacheSize int    `json:"circuitBreakerCacheSize,omitempty"`
}

func decodeResiliency(doc []byte) (Resiliency, error) {
	var d resiliencyDoc
	if err := yaml.UnmarshalStrict(doc, &d); err != nil {
		return Resiliency{}, cleanYAMLError(err)
	}
	if d.Metadata.Name == "" {
		return Resiliency{}, invalid("metadata.name is required")
	}
	r := Resiliency{
		Name: d.Metadata.Name, Scopes: d.Scopes, Components: d.Spec.Targets.Components,
		Timeouts: map[string]time.Duration{}, Retries: map[string]Retry{},
		CircuitBreakers: map[string]CircuitBreaker{},
		Apps:            targetNames(d.Spec.Targets.Apps), Actors: targetNames(d.Spec.Targets.Actors),
	}
	p := d.Spec.Policies
	for _, name := range slices.Sorted(maps.Keys(p.Timeouts)) {
		t, err := duration(name, p.Timeouts[name], 0, false)
		if err != nil || t == 0 {
			return Resiliency{}, invalid("spec.policies.timeouts.%s: %q is not a positive duration such as 5s", name, p.Timeouts[name])
		}
		r.Timeouts[name] = t
	}
	for _, name := range slices.Sorted(maps.Keys(p.Retries)) {
		rt, err := p.Retries[name].decode()
		if err != nil {
			return Resiliency{}, invalid("spec.policies.retries.%s.%v", name, err)
		}
		r.Retries[name] = rt
	}
	for _, name := range slices.Sorted(maps.Keys(p.CircuitBreakers)) {
		cb, err := p.CircuitBreakers[name].decode()
		if err != nil {
			return Resiliency{}, invalid("spec.policies.circuitBreakers.%s.%v", name, err)
		}
		r.CircuitBreakers[name] = cb
	}
	return r, nil
}

// decode applies daprd's defaults; errors start with the field name.
func (d retryDoc) decode() (Retry, error) {
	r := Retry{Policy: RetryConstant, MaxRetries: UnlimitedRetries, Matching: d.Matching}
	switch strings.ToLower(d.Policy) {
	case "", RetryConstant:
	case RetryExponential:
		r.Policy = RetryExponential
	default:
		return r, fmt.Errorf("policy: %q is not constant or exponential", d.Policy)
	}
	var err error
	if r.Duration, err = duration("duration", d.Duration, DefaultRetryDuration, false); err != nil {
		return r, err
	}
	if r.MaxInterval, err = duration("maxInterval", d.MaxInterval, DefaultRetryMaxInterval, false); err != nil {
		return r, err
	}
	if d.MaxRetries != nil {
		if *d.MaxRetries < UnlimitedRetries {
			return r, fmt.Errorf("maxRetries: %d must be -1 (unlimited) or more", *d.MaxRetries)
		}
		r.MaxRetries = *d.MaxRetries
	}
	return r, nil
}

func (d circuitBreakerDoc) decode() (CircuitBreaker, error) {
	cb := CircuitBreaker{Trip: strings.TrimSpace(d.Trip)}
	if d.MaxRequests < 0 || int64(d.MaxRequests) > int64(^uint32(0)) {
		return cb, fmt.Errorf("maxRequests: %d is not a count", d.MaxRequests)
	}
	cb.MaxRequests = uint32(d.MaxRequests)
	var err error
	if cb.Interval, err = duration("interval", d.Interval, 0, true); err != nil {
		return cb, err
	}
	cb.Timeout, err = duration("timeout", d.Timeout, 0, true)
	return cb, err
}

// duration parses an optional duration field; def applies when v is empty.
func duration(field, v string, def time.Duration, zeroOK bool) (time.Duration, error) {
	if v == "" {
		return def, nil
	}
	t, err := parseDuration(v)
	if err != nil || t < 0 || (t == 0 && !zeroOK) {
		return 0, fmt.Errorf("%s: %q is not a positive duration such as 5s", field, v)
	}
	return t, nil
}

// parseDuration reads durations like daprd: a bare integer is milliseconds.
func parseDuration(v string) (time.Duration, error) {
	if ms, err := strconv.ParseInt(v, 10, 64); err == nil {
		if ms > math.MaxInt64/int64(time.Millisecond) || ms < math.MinInt64/int64(time.Millisecond) {
			return 0, fmt.Errorf("%s milliseconds is out of range", v)
		}
		return time.Duration(ms) * time.Millisecond, nil
	}
	return time.ParseDuration(v)
}

func targetNames(in map[string]targetDoc) map[string]PolicyNames {
	if in == nil {
		return nil
	}
	out := make(map[string]PolicyNames, len(in))
	for k, v := range in {
		out[k] = v.PolicyNames
	}
	return out
}

// AppliesTo reports whether the resource is scoped to app (or unscoped).
func (r Resiliency) AppliesTo(app string) bool {
	return len(r.Scopes) == 0 || slices.Contains(r.Scopes, app)
}

// validateResiliencies checks that every target names policies that exist in
// some Resiliency resource (daprd merges them all) and that names are unique.
func (s *Set) validateResiliencies() error {
	seen := map[string]string{}
	for _, r := range s.Resiliencies {
		if prev, dup := seen[r.Name]; dup {
			return invalid("resiliency %q is defined twice (%s and %s)", r.Name, prev, r.File)
		}
		seen[r.Name] = r.File
	}
	for _, r := range s.Resiliencies {
		for _, comp := range slices.Sorted(maps.Keys(r.Components)) {
			t := r.Components[comp]
			if err := s.checkNames(t.Inbound); err != nil {
				return invalid("%s: resiliency %q: targets.components.%s.inbound: %v", r.File, r.Name, comp, err)
			}
			if err := s.checkNames(t.Outbound); err != nil {
				return invalid("%s: resiliency %q: targets.components.%s.outbound: %v", r.File, r.Name, comp, err)
			}
		}
	}
	return nil
}

func (s *Set) checkNames(n PolicyNames) error {
	has := func(pick func(Resiliency) bool) bool { return slices.ContainsFunc(s.Resiliencies, pick) }
	switch {
	case n.Timeout != "" && !has(func(r Resiliency) bool { _, ok := r.Timeouts[n.Timeout]; return ok }):
		return fmt.Errorf("timeout policy %q is not defined", n.Timeout)
	case n.Retry != "" && !has(func(r Resiliency) bool { _, ok := r.Retries[n.Retry]; return ok }):
		return fmt.Errorf("retry policy %q is not defined", n.Retry)
	case n.CircuitBreaker != "" && !has(func(r Resiliency) bool { _, ok := r.CircuitBreakers[n.CircuitBreaker]; return ok }):
		return fmt.Errorf("circuit breaker policy %q is not defined", n.CircuitBreaker)
	}
	return nil
}
