package binding

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"
)

// structuredTarget asks for structured mode for the functions in http.
type structuredTarget struct {
	staticTarget
	http map[string]bool
}

func (s structuredTarget) Structured(fn string) bool { return s.http[fn] }

func TestDeliverModes(t *testing.T) {
	tests := []struct {
		name       string
		http       bool // the target reports the function as a plain HTTP one
		wantType   string
		wantCEID   string // ce-id header
		wantBodyID string // "id" in the JSON body
	}{
		{name: "CloudEvent function: binary", wantType: "application/json", wantCEID: "id-7"},
		{name: "HTTP function: structured", http: true, wantType: "application/cloudevents+json", wantBodyID: "id-7"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, got := function(t, "", http.StatusOK)
			d := NewDeliverer(structuredTarget{staticTarget{"web": srv.URL}, map[string]bool{"web": tt.http}}, nil, nil)
			ev := event.New()
			ev.SetID("id-7")
			ev.SetSource("/test")
			ev.SetType("com.example.order")
			ev.SetExtension("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
			if err := ev.SetData("application/json", map[string]int{"orderId": 7}); err != nil {
				t.Fatal(err)
			}
			a := d.Deliver(t.Context(), "web", &ev, Policy{Timeout: 5 * time.Second})
			if a.Outcome != Ack || len(*got) != 1 {
				t.Fatalf("got outcome %v after %d requests (%v), want one Ack", a.Outcome, len(*got), a.Err)
			}
			r := (*got)[0]
			var body struct {
				ID   string         `json:"id"`
				Type string         `json:"type"`
				Data map[string]int `json:"data"`
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
			if tt.http && (body.Type != "com.example.order" || body.Data["orderId"] != 7) {
				t.Errorf("got body %s, want the whole event with its data", r.body)
			}
			if got := r.header.Get("Traceparent"); got == "" {
				t.Error("no traceparent header")
			}
		})
	}
}
