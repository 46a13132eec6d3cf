package pubsub

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
)

// fake is a PubSub that only records Close.
type fake struct {
	closed   int
	closeErr error
}

func (f *fake) Publish(context.Context, *Message) error                { return nil }
func (f *fake) Subscribe(context.Context, Subscription, Handler) error { return nil }
func (f *fake) Close() error                                           { f.closed++; return f.closeErr }

var _ PubSub = (*fake)(nil)

func TestRegistryAddGet(t *testing.T) {
	r := NewRegistry()
	a := &fake{}
	if err := r.Add("orderpubsub", "pubsub.jetstream", a); err != nil {
		t.Fatalf("Add: %v", err)
	}
	err := r.Add("orderpubsub", "pubsub.redis", &fake{})
	if err == nil || !strings.Contains(err.Error(), `"orderpubsub"`) {
		t.Errorf("second Add: got %v, want an error naming orderpubsub", err)
	}
	tests := []struct {
		name, lookup string
		want         PubSub
		wantOK       bool
		wantType     string
	}{
		{name: "registered", lookup: "orderpubsub", want: a, wantOK: true, wantType: "pubsub.jetstream"},
		{name: "unknown", lookup: "nope"},
		{name: "case matters", lookup: "OrderPubSub"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := r.Get(tt.lookup)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("Get(%q): got %v, %v, want %v, %v", tt.lookup, got, ok, tt.want, tt.wantOK)
			}
			if got := r.Type(tt.lookup); got != tt.wantType {
				t.Errorf("Type(%q): got %q, want %q (the first Add wins)", tt.lookup, got, tt.wantType)
			}
		})
	}
}

func TestRegistryNames(t *testing.T) {
	r := NewRegistry()
	if got := r.Names(); len(got) != 0 {
		t.Errorf("got %v, want no names", got)
	}
	for _, n := range []string{"redis", "kafka", "orderpubsub", "a"} {
		if err := r.Add(n, "pubsub.in-memory", &fake{}); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := r.Names(), []string{"a", "kafka", "orderpubsub", "redis"}; !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestRegistryClose(t *testing.T) {
	r := NewRegistry()
	boom := errors.New("boom")
	comps := map[string]*fake{"a": {}, "b": {closeErr: boom}, "c": {}}
	for n, f := range comps {
		if err := r.Add(n, "pubsub.in-memory", f); err != nil {
			t.Fatal(err)
		}
	}
	err := r.Close()
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), "close pubsub b") {
		t.Errorf("got %v, want boom naming pubsub b", err)
	}
	for n, f := range comps {
		if f.closed != 1 {
			t.Errorf("%s: got %d Close calls, want 1", n, f.closed)
		}
	}
	if got := r.Names(); len(got) != 0 {
		t.Errorf("got names %v after Close, want none", got)
	}
	if _, ok := r.Get("a"); ok {
		t.Error("Get after Close: got a component, want none")
	}
	if got := r.Type("a"); got != "" {
		t.Errorf("Type after Close: got %q, want none", got)
	}
	if err := r.Close(); err != nil {
		t.Errorf("second Close: got %v, want nil", err)
	}
	for n, f := range comps {
		if f.closed != 1 {
			t.Errorf("%s: got %d Close calls after a second Registry.Close, want 1", n, f.closed)
		}
	}
}
