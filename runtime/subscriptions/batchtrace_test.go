package subscriptions

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	contrib "github.com/dapr/components-contrib/pubsub"
	runtimev1pb "github.com/dapr/dapr/pkg/proto/runtime/v1"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"

	"github.com/funcd/funcd/runtime/delivery"
	"github.com/funcd/funcd/runtime/resources"
	"github.com/funcd/funcd/runtime/tracing"
)

// TestBatchSpanLinksEachMessage checks that a batch gets one consumer span
// of its own, linked to the trace context of each message that has one,
// with the attempts as its children.
func TestBatchSpanLinksEachMessage(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	srv, _ := function(t, "", http.StatusServiceUnavailable, http.StatusOK)
	sub := resources.Subscription{Routes: resources.Routes{Default: "/order-processor"},
		BulkSubscribe: resources.BulkSubscribe{Enabled: true, MaxMessagesCount: 3, MaxAwaitDurationMs: 5000}}
	_, ps := start(t, Config{Target: staticTarget{"order-processor": srv.URL}, TracerProvider: tp,
		Batch: func(fn string) bool { return fn == "order-processor" }}, sub)

	parents := []string{"00f067aa0ba90201", "00f067aa0ba90202", ""} // the last message has no trace context
	var wg sync.WaitGroup
	errs := make([]error, len(parents))
	for i, span := range parents {
		tp := ""
		if span != "" {
			tp = fmt.Sprintf("00-4bf92f3577b34da6a3ce929d0e0e47%02d-%s-01", i, span)
		}
		env := contrib.NewCloudEventsEnvelope(fmt.Sprintf("id-%d", i), "checkout", contrib.DefaultCloudEventType, "",
			"orders", "orderpubsub", "application/json", []byte(order), tp, "")
		data, _ := json.Marshal(env)
		wg.Go(func() { errs[i] = deliver(t, ps, data) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("message %d = %v, want nil (acked with its batch)", i, err)
		}
	}

	var batch sdktrace.ReadOnlySpan
	var attempts []sdktrace.ReadOnlySpan
	for _, s := range rec.Ended() {
		switch s.Name() {
		case "process orders":
			if batch != nil {
				t.Fatal("two process spans for one batch")
			}
			batch = s
		case "deliver order-processor":
			attempts = append(attempts, s)
		}
	}
	if batch == nil {
		t.Fatal("no process span for the batch")
	}
	if batch.SpanKind() != trace.SpanKindConsumer || batch.Parent().IsValid() {
		t.Errorf("batch span: kind %v parent %v, want a consumer root", batch.SpanKind(), batch.Parent())
	}
	var linked []string
	for _, l := range batch.Links() {
		linked = append(linked, l.SpanContext.SpanID().String())
	}
	slices.Sort(linked)
	if want := parents[:2]; !slices.Equal(linked, want) {
		t.Errorf("batch span links %v, want %v", linked, want)
	}
	if got := attr(batch, "messaging.batch.message_count"); got != "3" {
		t.Errorf("messaging.batch.message_count = %q, want 3", got)
	}
	if got := attr(batch, tracing.OutcomeKey); got != "ack" {
		t.Errorf("batch outcome = %q, want ack", got)
	}
	if len(attempts) != 2 {
		t.Fatalf("got %d attempts, want 2 (503, then 200)", len(attempts))
	}
	for _, a := range attempts {
		if a.Parent().SpanID() != batch.SpanContext().SpanID() {
			t.Errorf("attempt %v has parent %v, want the batch span", a.SpanContext().SpanID(), a.Parent().SpanID())
		}
	}
}

func TestEndBatchRecordsOutcomes(t *testing.T) {
	tests := []struct {
		name        string
		outcomes    []delivery.Outcome
		wantOutcome string
		wantAcked   string
		wantError   bool
	}{
		{"all acked", []delivery.Outcome{delivery.Ack, delivery.Ack}, "ack", "2", false},
		{"mixed", []delivery.Outcome{delivery.Ack, delivery.DeadLetter, delivery.Retry}, "", "1", true},
		{"all retried", []delivery.Outcome{delivery.Retry, delivery.Retry}, "retry", "0", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := tracetest.NewSpanRecorder()
			_, span := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec)).Tracer("t").Start(t.Context(), "batch")
			endBatch(span, tt.outcomes, fmt.Errorf("app answered RETRY"))
			s := rec.Ended()[0]
			if got := attr(s, tracing.OutcomeKey); got != tt.wantOutcome {
				t.Errorf("outcome = %q, want %q", got, tt.wantOutcome)
			}
			if got := attr(s, "funcd.delivery.acked"); got != tt.wantAcked {
				t.Errorf("acked = %q, want %q", got, tt.wantAcked)
			}
			if got := s.Status().Code.String() == "Error"; got != tt.wantError {
				t.Errorf("status %v, want error %v", s.Status(), tt.wantError)
			}
		})
	}
}

// bulkMetadataCallback records the gRPC metadata of each bulk call and
// acknowledges every entry.
type bulkMetadataCallback struct {
	fakeCallback
	md []metadata.MD
}

func (f *bulkMetadataCallback) OnBulkTopicEventAlpha1(ctx context.Context, in *runtimev1pb.TopicEventBulkRequest, _ ...grpc.CallOption) (*runtimev1pb.TopicEventBulkResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	md, _ := metadata.FromOutgoingContext(ctx)
	f.md = append(f.md, md)
	resp := &runtimev1pb.TopicEventBulkResponse{}
	for _, e := range in.GetEntries() {
		resp.Statuses = append(resp.Statuses, &runtimev1pb.TopicEventBulkResponseEntry{EntryId: e.GetEntryId(),
			Status: runtimev1pb.TopicEventResponse_SUCCESS})
	}
	return resp, nil
}

// TestAppBatchCarriesBatchSpan checks that a bulk delivery to a Dapr app,
// over HTTP and gRPC, carries the batch span as its traceparent, so the
// app's spans join the batch's trace, which links each entry's.
func TestAppBatchCarriesBatchSpan(t *testing.T) {
	for _, transport := range []string{"http", "grpc"} {
		t.Run(transport, func(t *testing.T) {
			rec := tracetest.NewSpanRecorder()
			tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
			var mu sync.Mutex
			var parents []string
			app := &App{ID: "sub"}
			target := staticTarget{}
			if transport == "grpc" {
				app.GRPC = &bulkMetadataCallback{}
			} else {
				srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					var req struct {
						Entries []struct {
							EntryID string `json:"entryId"`
						} `json:"entries"`
					}
					_ = json.NewDecoder(r.Body).Decode(&req)
					mu.Lock()
					parents = append(parents, r.Header.Get("traceparent"))
					mu.Unlock()
					statuses := make([]map[string]string, len(req.Entries))
					for i, e := range req.Entries {
						statuses[i] = map[string]string{"entryId": e.EntryID, "status": "SUCCESS"}
					}
					_ = json.NewEncoder(w).Encode(map[string]any{"statuses": statuses})
				}))
				t.Cleanup(srv.Close)
				target["/bulk"] = srv.URL
			}
			ps := &fakePubSub{}
			b, err := New(Config{
				Subscriptions: []resources.Subscription{{Name: "s", PubsubName: "orderpubsub", Topic: "orders",
					Routes: resources.Routes{Default: "/bulk"}, BulkSubscribe: resources.BulkSubscribe{Enabled: true, MaxMessagesCount: 2, MaxAwaitDurationMs: 5000}}},
				PubSubs: registry{"orderpubsub": ps}, Target: target, TracerProvider: tp,
				Retry: delivery.RetryPolicy{Multiplier: 1}, App: app,
			})
			if err != nil {
				t.Fatal(err)
			}
			if err := b.Start(context.Background()); err != nil {
				t.Fatal(err)
			}
			for i, err := range publishBulk(t, ps, []string{"a", "b"}) {
				if err != nil {
					t.Errorf("entry %d: %v", i, err)
				}
			}
			b.Stop(context.Background())

			var batch sdktrace.ReadOnlySpan
			for _, s := range rec.Ended() {
				if s.Name() == "process orders" {
					batch = s
				}
			}
			if batch == nil {
				t.Fatal("no process span for the batch")
			}
			want := fmt.Sprintf("00-%s-%s-01", batch.SpanContext().TraceID(), batch.SpanContext().SpanID())
			mu.Lock()
			if cb, ok := app.GRPC.(*bulkMetadataCallback); ok {
				cb.mu.Lock()
				for _, md := range cb.md {
					parents = append(parents, strings.Join(md.Get("traceparent"), ","))
				}
				cb.mu.Unlock()
			}
			defer mu.Unlock()
			if len(parents) != 1 || parents[0] != want {
				t.Errorf("bulk calls' traceparent %q, want one call with the batch span's %q", parents, want)
			}
		})
	}
}
