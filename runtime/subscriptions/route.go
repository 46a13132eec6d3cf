package subscriptions

import (
	"fmt"
	"strings"

	"github.com/dapr/dapr/pkg/expr"
	"github.com/google/cel-go/cel"

	"github.com/funcd/funcd/runtime/delivery"
	"github.com/funcd/funcd/runtime/resources"
)

// router picks a subscription's target function for each event, the way
// daprd picks a route (pkg/runtime/subscription findMatchingRoute): rules in
// order, the first whose match is true wins; the default route is a last
// rule that always matches; no match means the event is not delivered.
type router struct {
	rules []rule
}

// rule is one compiled routing rule.
type rule struct {
	match    *expr.Expr // nil: always matches
	function string
}

// newRouter compiles the subscription's match expressions with daprd's own
// CEL environment (pkg/expr). Errors name the rule. target names the
// target of a route path: the function it names (resources.Function), or
// for a Dapr app the path it is requested on (appPath, or the path as
// written for gRPC apps).
//
// With catchAll, a subscription with no rules and no default route gets a
// default route with an empty path, as daprd gives gRPC apps' subscriptions
// (parseRoutingRulesGRPC).
func newRouter(sub resources.Subscription, target func(path string) string, catchAll bool) (router, error) {
	var r router
	for i, rl := range sub.Routes.Rules {
		m, err := compileMatch(rl.Match)
		if err != nil {
			return router{}, fmt.Errorf("spec.routes.rules[%d].match %q: %w", i, rl.Match, err)
		}
		r.rules = append(r.rules, rule{match: m, function: target(rl.Path)})
	}
	if sub.Routes.Default != "" || (catchAll && len(r.rules) == 0) {
		r.rules = append(r.rules, rule{function: target(sub.Routes.Default)})
	}
	return r, nil
}

// compileMatch compiles a match expression as daprd does (CreateRoutingRule:
// trimmed, empty means always). daprd declares every name an expression
// uses, so a rule reading anything but "event" compiles there and fails on
// every message; it is refused here instead.
func compileMatch(src string) (*expr.Expr, error) {
	src = strings.TrimSpace(src)
	if src == "" {
		return nil, nil
	}
	e := &expr.Expr{}
	if err := e.DecodeString(src); err != nil {
		return nil, err
	}
	env, err := cel.NewEnv(cel.Variable("event", cel.DynType))
	if err != nil {
		return nil, err
	}
	if _, iss := env.Compile(src); iss.Err() != nil {
		return nil, fmt.Errorf("only the variable event (the CloudEvent envelope) is defined: %w", iss.Err())
	}
	return e, nil
}

// needsFields reports whether routing reads the envelope.
func (r router) needsFields() bool {
	for _, rl := range r.rules {
		if rl.match != nil {
			return true
		}
	}
	return false
}

// functions lists every function the router can pick, once each.
func (r router) functions() []string {
	var out []string
	seen := map[string]bool{}
	for _, rl := range r.rules {
		if !seen[rl.function] {
			seen[rl.function] = true
			out = append(out, rl.function)
		}
	}
	return out
}

// route returns the target for an envelope; ok is false when no rule
// matches. An expression that fails or is not boolean fails the same way
// on every delivery, so its error is permanent.
func (r router) route(fields map[string]any) (target string, ok bool, err error) {
	vars := map[string]any{"event": fields}
	for _, rl := range r.rules {
		if rl.match == nil {
			return rl.function, true, nil
		}
		v, err := rl.match.Eval(vars)
		if err != nil {
			return "", false, delivery.Permanentf("route: match %s: %w", rl.match, err)
		}
		matched, isBool := v.(bool)
		if !isBool {
			return "", false, delivery.Permanentf("route: the result of match expression %s was not a boolean", rl.match)
		}
		if matched {
			return rl.function, true, nil
		}
	}
	return "", false, nil
}

// appPath is a route path as daprd's HTTP app channel requests it: always
// under the app's root.
func appPath(path string) string {
	return "/" + strings.TrimPrefix(path, "/")
}
