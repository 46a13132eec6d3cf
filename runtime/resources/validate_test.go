package resources

import (
	"errors"
	"strings"
	"testing"
)

func TestSetValidate(t *testing.T) {
	ps := Component{Name: "ps", Type: "pubsub.redis", Version: "v1", File: "a.yaml"}
	state := Component{Name: "store", Type: "state.redis", Version: "v1", File: "a.yaml"}
	sub := func(name, pubsub, topic string, paths ...string) Subscription {
		s := Subscription{Name: name, PubsubName: pubsub, Topic: topic, File: name + ".yaml"}
		s.Routes.Default = paths[0]
		for _, p := range paths[1:] {
			s.Routes.Rules = append(s.Routes.Rules, Rule{Match: "true", Path: p})
		}
		return s
	}
	tests := []struct {
		name    string
		set     Set
		wantErr []string // empty: valid
	}{
		{name: "empty", set: Set{}},
		{
			name: "one subscription",
			set:  Set{Components: []Component{ps, state}, Subscriptions: []Subscription{sub("s", "ps", "orders", "/fn")}},
		},
		{
			name: "fan-out of one topic to different functions",
			set: Set{Components: []Component{ps}, Subscriptions: []Subscription{
				sub("s1", "ps", "orders", "/billing"), sub("s2", "ps", "orders", "/shipping"),
			}},
		},
		{
			name: "same function on different topics",
			set: Set{Components: []Component{ps}, Subscriptions: []Subscription{
				sub("s1", "ps", "orders", "/fn"), sub("s2", "ps", "refunds", "/fn"),
			}},
		},
		{
			name: "one subscription routing several paths to one function",
			set: Set{Components: []Component{ps}, Subscriptions: []Subscription{
				sub("s", "ps", "orders", "/fn", "/fn/big", "fn/small"),
			}},
		},
		{
			name:    "duplicate component",
			set:     Set{Components: []Component{ps, {Name: "ps", Type: "pubsub.kafka", Version: "v1", File: "b.yaml"}}},
			wantErr: []string{`component "ps" is defined twice`, "a.yaml", "b.yaml"},
		},
		{
			name: "duplicate subscription",
			set: Set{Components: []Component{ps}, Subscriptions: []Subscription{
				sub("s", "ps", "orders", "/a"), sub("s", "ps", "refunds", "/b"),
			}},
			wantErr: []string{`subscription "s" is defined twice`, "s.yaml"},
		},
		{
			name:    "subscription to a missing component",
			set:     Set{Components: []Component{ps}, Subscriptions: []Subscription{sub("s", "nope", "orders", "/fn")}},
			wantErr: []string{"s.yaml", `subscription "s"`, `"nope" is not defined`},
		},
		{
			name:    "subscription to a non-pubsub component",
			set:     Set{Components: []Component{state}, Subscriptions: []Subscription{sub("s", "store", "orders", "/fn")}},
			wantErr: []string{"s.yaml", `component "store" is a state.redis component, not pubsub`},
		},
		{
			name: "two subscriptions route one topic to one function",
			set: Set{Components: []Component{ps}, Subscriptions: []Subscription{
				sub("s1", "ps", "orders", "/fn"), sub("s2", "ps", "orders", "/other", "/fn/x"),
			}},
			wantErr: []string{`"s1" (s1.yaml)`, `"s2" (s2.yaml)`, "ps/orders -> fn"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkValidate(t, tt.set.Validate(), tt.wantErr)
		})
	}
}

func TestFunction(t *testing.T) {
	tests := []struct {
		name, path, want string
	}{
		{name: "absolute", path: "/order-processor", want: "order-processor"},
		{name: "relative", path: "order-processor", want: "order-processor"},
		{name: "sub-path", path: "/order-processor/orders/eu", want: "order-processor"},
		{name: "root", path: "/", want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Function(tt.path); got != tt.want {
				t.Errorf("Function(%q): got %q, want %q", tt.path, got, tt.want)
			}
		})
	}
}

func TestPaths(t *testing.T) {
	s := Subscription{Routes: Routes{Default: "/d", Rules: []Rule{{Path: "/a"}, {Path: "/b"}}}}
	got := strings.Join(s.Paths(), ",")
	if want := "/a,/b,/d"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestCategory(t *testing.T) {
	for _, tt := range []struct{ typ, want string }{
		{"pubsub.redis", "pubsub"}, {"bindings.kafka", "bindings"}, {"pubsub", "pubsub"},
	} {
		if got := (Component{Type: tt.typ}).Category(); got != tt.want {
			t.Errorf("Category of %q: got %q, want %q", tt.typ, got, tt.want)
		}
	}
}

// checkValidate checks the error of a Validate call: nil when wantErr is
// empty, else one wrapping ErrInvalid whose text holds each of wantErr.
func checkValidate(t *testing.T, err error, wantErr []string) {
	t.Helper()
	if len(wantErr) == 0 {
		if err != nil {
			t.Fatalf("got %v, want nil", err)
		}
		return
	}
	if !errors.Is(err, ErrInvalid) {
		t.Fatalf("got %v, want an error wrapping ErrInvalid", err)
	}
	for _, want := range wantErr {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("got error %q, want it to contain %q", err, want)
		}
	}
}
