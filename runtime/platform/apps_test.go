package platform

import (
	"strings"
	"testing"

	"github.com/funcd/funcd/runtime/funcbuild"
	"github.com/funcd/funcd/runtime/resources"
)

func TestForFunctions(t *testing.T) {
	fns := []funcbuild.Function{{Name: "order-processor"}}
	sub := func(scopes []string, paths ...string) resources.Subscription {
		s := resources.Subscription{Scopes: scopes}
		for _, p := range paths {
			s.Routes.Rules = append(s.Routes.Rules, resources.Rule{Path: p})
		}
		return s
	}
	tests := []struct {
		name     string
		withApps bool
		sub      resources.Subscription
		want     bool
	}{
		{"no apps: every subscription", false, sub(nil, "/orders"), true},
		{"unscoped, routes to a function", true, sub(nil, "/order-processor"), true},
		{"unscoped, routes to an app path", true, sub(nil, "/orders"), false},
		{"unscoped, partly a function", true, sub(nil, "/order-processor", "/orders"), false},
		{"scoped to a function", true, sub([]string{"order-processor", "app"}, "/x"), true},
		{"scoped to an app", true, sub([]string{"app"}, "/order-processor"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := forFunctions(tt.withApps, fns)(tt.sub); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestMergeResources(t *testing.T) {
	comp := resources.Component{Name: "orderpubsub", Type: "pubsub.jetstream", Version: "v1", Metadata: map[string]string{"a": "1"}, File: "x.yaml"}
	into := &resources.Set{Components: []resources.Component{comp}}
	same := comp
	same.File = "y.yaml"
	if err := merge(into, &resources.Set{Components: []resources.Component{same}, Subscriptions: []resources.Subscription{{Name: "s"}}}); err != nil {
		t.Fatalf("the same component twice: %v", err)
	}
	if len(into.Components) != 1 || len(into.Subscriptions) != 1 {
		t.Errorf("merged %+v", into)
	}
	other := comp
	other.Metadata = map[string]string{"a": "2"}
	other.File = "z.yaml"
	if err := merge(into, &resources.Set{Components: []resources.Component{other}}); err == nil || !strings.Contains(err.Error(), "defined differently in x.yaml and z.yaml") {
		t.Errorf("a different definition: %v", err)
	}
}
