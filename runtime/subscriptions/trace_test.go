package subscriptions

import (
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"
	contrib "github.com/dapr/components-contrib/pubsub"
	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/funcd/funcd/runtime/pubsub"
	"github.com/funcd/funcd/runtime/resources"
	"github.com/funcd/funcd/runtime/tracing"
)

func TestDeliverySpans(t *testing.T) {
	const (
		traceID   = "4bf92f3577b34da6a3ce929d0e0e4736"
		publisher = "00f067aa0ba902b7"
	)
	tests := []struct {
		name         string
		traceparent  string
		statuses     []int
		wantAttempts []string
		wantOutcome  string
		wantEvent    string
	}{
		{"continues the event's trace, two retries", "00-" + traceID + "-" + publisher + "-01",
			[]int{500, 503, 200}, []string{"retry", "retry", "ack"}, "ack", tracing.EventBackoff},
		{"dead letter", "00-" + traceID + "-" + publisher + "-01",
			[]int{400}, []string{"dead-letter"}, "dead-letter", tracing.EventDeadLettered},
		{"no trace context starts a root", "", []int{200}, []string{"ack"}, "ack", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := tracetest.NewSpanRecorder()
			tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
			srv, got := function(t, "", tt.statuses...)
			_, ps := start(t, Config{Target: staticTarget{"order-processor": srv.URL}, TracerProvider: tp},
				resources.Subscription{Routes: resources.Routes{Default: "/order-processor"}, DeadLetterTopic: "dlq"})
			env := contrib.NewCloudEventsEnvelope("id-1", "checkout", contrib.DefaultCloudEventType, "",
				"orders", "orderpubsub", "application/json", []byte(order), tt.traceparent, "")
			data, _ := json.Marshal(env)
			if err := deliver(t, ps, data); err != nil {
				t.Fatalf("handler = %v, want nil", err)
			}
			var process sdktrace.ReadOnlySpan
			var attempts []string
			for _, s := range rec.Ended() {
				switch s.Name() {
				case "process orders":
					process = s
				case "deliver order-processor":
					attempts = append(attempts, attr(s, tracing.OutcomeKey))
				}
			}
			if process == nil {
				t.Fatal("no process span")
			}
			if !slices.Equal(attempts, tt.wantAttempts) {
				t.Errorf("attempt outcomes: got %v, want %v", attempts, tt.wantAttempts)
			}
			if got := attr(process, tracing.OutcomeKey); got != tt.wantOutcome {
				t.Errorf("delivery outcome: got %q, want %q", got, tt.wantOutcome)
			}
			if process.SpanKind() != trace.SpanKindConsumer {
				t.Errorf("process span kind %v, want consumer", process.SpanKind())
			}
			if tt.traceparent == "" {
				if process.Parent().IsValid() {
					t.Errorf("process span has parent %v, want a root", process.Parent())
				}
			} else {
				if process.Parent().SpanID().String() != publisher || process.SpanContext().TraceID().String() != traceID {
					t.Errorf("process span parent %v, want span %s of trace %s", process.Parent(), publisher, traceID)
				}
				if len(process.Links()) != 1 || process.Links()[0].SpanContext.SpanID().String() != publisher {
					t.Errorf("process span links %v, want the publish span", process.Links())
				}
			}
			if tt.wantEvent != "" && !slices.ContainsFunc(process.Events(), func(e sdktrace.Event) bool { return e.Name == tt.wantEvent }) {
				t.Errorf("process span events %v, want %q", process.Events(), tt.wantEvent)
			}
			// The function gets the attempt's span as traceparent, the
			// event's own trace context unchanged as ce-traceparent.
			r := (*got)[len(*got)-1]
			if tt.traceparent != "" && r.header.Get("Ce-Traceparent") != tt.traceparent {
				t.Errorf("ce-traceparent %q, want %q unchanged", r.header.Get("Ce-Traceparent"), tt.traceparent)
			}
			if tp := r.header.Get("Traceparent"); tp == "" || tp == tt.traceparent {
				t.Errorf("traceparent %q, want the last attempt's span", tp)
			}
		})
	}
}

// attr is the value of key on s, as a string.
func attr(s sdktrace.ReadOnlySpan, key attribute.Key) string {
	for _, kv := range s.Attributes() {
		if kv.Key == key {
			return kv.Value.Emit()
		}
	}
	return ""
}

// TestPublishTime checks where the topic wait starts: the broker's publish
// time, else an envelope time finer than a second; daprd's whole-second
// envelope time would start it up to a second early, so it gives none.
func TestPublishTime(t *testing.T) {
	stored := time.Date(2026, 12, 2, 10, 0, 0, 123456789, time.UTC)
	tests := []struct {
		name     string
		metadata map[string]string
		evTime   time.Time
		want     time.Time
	}{
		{"the broker's", map[string]string{pubsub.PublishTimeKey: stored.Format(time.RFC3339Nano)}, stored.Truncate(time.Second), stored},
		{"the envelope's, finer than a second", nil, stored, stored},
		{"daprd's envelope: whole seconds", nil, stored.Truncate(time.Second), time.Time{}},
		{"none", nil, time.Time{}, time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev := event.New()
			ev.SetTime(tt.evTime)
			if got := publishTime(&pubsub.Message{Metadata: tt.metadata}, &ev); !got.Equal(tt.want) {
				t.Errorf("publishTime = %v, want %v", got, tt.want)
			}
		})
	}
}
