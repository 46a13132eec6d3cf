package delivery

import (
	"fmt"
	"log/slog"

	"github.com/dapr/dapr/pkg/expr"
	"github.com/sony/gobreaker"

	"github.com/funcd/funcd/runtime/resources"
)

// Breaker is a circuit breaker with daprd's semantics (pkg/resiliency/
// breaker): gobreaker, tripped by a CEL expression over its counts. Only
// transient failures (Outcome Retry) count as failures: a function that
// answers 4xx is up.
type Breaker struct {
	cb *gobreaker.TwoStepCircuitBreaker
}

// tripVariables are the counts a trip expression may read.
var tripVariables = []string{"requests", "totalSuccesses", "totalFailures", "consecutiveSuccesses", "consecutiveFailures"}

// NewBreaker builds a breaker from a Resiliency circuitBreakers entry. Zero
// fields take gobreaker's defaults, as in daprd. A trip expression that does
// not compile, or that fails or is not boolean on zero counts, is refused:
// daprd would accept it and never trip.
func NewBreaker(name string, spec resources.CircuitBreaker, log *slog.Logger) (*Breaker, error) {
	st := gobreaker.Settings{
		Name: name, MaxRequests: spec.MaxRequests, Interval: spec.Interval, Timeout: spec.Timeout,
		OnStateChange: func(name string, from, to gobreaker.State) {
			log.Warn("circuit breaker changed state", "breaker", name, "from", from.String(), "to", to.String())
		},
	}
	if spec.Trip != "" {
		trip, err := compileTrip(spec.Trip)
		if err != nil {
			return nil, fmt.Errorf("trip %q: %w", spec.Trip, err)
		}
		st.ReadyToTrip = trip
	}
	return &Breaker{cb: gobreaker.NewTwoStepCircuitBreaker(st)}, nil
}

func compileTrip(src string) (func(gobreaker.Counts) bool, error) {
	e := &expr.Expr{}
	if err := e.DecodeString(src); err != nil {
		return nil, err
	}
	v, err := e.Eval(tripVars(gobreaker.Counts{}))
	if err != nil {
		return nil, fmt.Errorf("%w (the variables are %v)", err, tripVariables)
	}
	if _, ok := v.(bool); !ok {
		return nil, fmt.Errorf("the result is %T, not a boolean", v)
	}
	return func(c gobreaker.Counts) bool {
		v, err := e.Eval(tripVars(c))
		ok, isBool := v.(bool)
		return err == nil && isBool && ok // daprd: never trip on an error
	}, nil
}

func tripVars(c gobreaker.Counts) map[string]any {
	return map[string]any{
		"requests":             int64(c.Requests),
		"totalSuccesses":       int64(c.TotalSuccesses),
		"totalFailures":        int64(c.TotalFailures),
		"consecutiveSuccesses": int64(c.ConsecutiveSuccesses),
		"consecutiveFailures":  int64(c.ConsecutiveFailures),
	}
}

// Allow asks to make one attempt. It fails with ErrCircuitOpen while the
// breaker is open (or half-open and busy); otherwise done must be called
// with the attempt's result. A nil Breaker allows everything.
func (b *Breaker) Allow() (done func(success bool), err error) {
	if b == nil {
		return func(bool) {}, nil
	}
	done, err = b.cb.Allow()
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrCircuitOpen, b.cb.Name(), err)
	}
	return done, nil
}

// State is the breaker's state: closed, open or half-open.
func (b *Breaker) State() string {
	if b == nil {
		return "closed"
	}
	return b.cb.State().String()
}
