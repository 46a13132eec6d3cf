package subscriptions

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/funcd/funcd/runtime/delivery"
	"github.com/funcd/funcd/runtime/resources"
)

// structuredTarget asks for structured mode for the functions in http.
type structuredTarget struct {
	staticTarget
	http map[string]bool
}

func (s structuredTarget) Structured(fn string) bool { return s.http[fn] }

// TestDeliverModes sends an event to a CloudEvent function and to a plain
// HTTP function, through a subscription and through a Deliverer (as input
// bindings do): binary mode to the first, structured mode to the second.
func TestDeliverModes(t *testing.T) {
	tests := []struct {
		name       string
		http       bool // the target reports the function as a plain HTTP one
		wantType   string
		wantCEID   string // ce-id header
		wantBodyID string // "id" in the JSON body
	}{
		{name: "CloudEvent function: binary", wantType: "application/json", wantCEID: "id-1"},
		{name: "HTTP function: structured", http: true, wantType: "application/cloudevents+json", wantBodyID: "id-1"},
	}
	paths := map[string]func(t *testing.T, target delivery.Target){
		"subscription": func(t *testing.T, target delivery.Target) {
			_, ps := start(t, Config{Target: target}, resources.Subscription{Routes: resources.Routes{Default: "/web"}})
			if err := deliver(t, ps, envelope(t, "application/json", []byte(`{"orderId":1}`))); err != nil {
				t.Fatalf("handler = %v, want nil (ack)", err)
			}
		},
		"deliverer": func(t *testing.T, target delivery.Target) {
			ev := mustEvent(t)
			ev.SetID("id-1")
			ev.SetExtension("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
			if a := delivery.NewDeliverer(target, nil, nil).Deliver(t.Context(), "web", &ev, delivery.Policy{Timeout: 5 * time.Second}); a.Outcome != delivery.Ack {
				t.Fatalf("got outcome %v (%v), want delivery.Ack", a.Outcome, a.Err)
			}
		},
	}
	for _, tt := range tests {
		for path, send := range paths {
			t.Run(tt.name+" via "+path, func(t *testing.T) {
				srv, got := function(t, "", http.StatusOK)
				send(t, structuredTarget{staticTarget{"web": srv.URL}, map[string]bool{"web": tt.http}})
				if len(*got) != 1 {
					t.Fatalf("the function got %d requests, want 1", len(*got))
				}
				r := (*got)[0]
				var body struct {
					ID         string          `json:"id"`
					Data       json.RawMessage `json:"data"`
					DataBase64 string          `json:"data_base64"`
				}
				_ = json.Unmarshal([]byte(r.body), &body)
				if got := r.header.Get("Content-Type"); got != tt.wantType {
					t.Errorf("got Content-Type %q, want %q", got, tt.wantType)
				}
				if got := r.header.Get("Ce-Id"); got != tt.wantCEID {
					t.Errorf("got ce-id header %q, want %q", got, tt.wantCEID)
				}
				if body.ID != tt.wantBodyID {
					t.Errorf("got id %q in the body %s, want %q", body.ID, r.body, tt.wantBodyID)
				}
				if tt.http && len(body.Data) == 0 && body.DataBase64 == "" {
					t.Errorf("got body %s, want the whole event with its data", r.body)
				}
				if r.header.Get("Traceparent") == "" {
					t.Error("no traceparent header")
				}
			})
		}
	}
}
