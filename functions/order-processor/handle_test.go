package function

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/cloudevents/sdk-go/v2/event"
	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"
	"go.opentelemetry.io/otel/trace"
)

const seedOrder = `{"orderId":1,"customerName":"Customer 1","amount":10.0,"status":"Pending"}`

const seedLine = "Subscriber received: orderId=1, customerName=Customer 1, amount=10.0, status=Pending\n"

// tracedSeedLine is seedLine for an event that carries the trace context of
// daprEnvelope's traceparent extension (funcd's scaffold would put it into
// the context; under func's own, Handle takes it from the event).
const tracedSeedLine = "Subscriber received: orderId=1, customerName=Customer 1, amount=10.0, status=Pending trace_id=4bf92f3577b34da6a3ce929d0e0e4736 span_id=00f067aa0ba902b7\n"

func TestHandleLogsOrders(t *testing.T) {
	tests := []struct {
		name        string
		contentType string
		data        string
		want        string
	}{
		{"seed order", "application/json", seedOrder, seedLine},
		{"fractional amount", "application/json", `{"orderId":2,"customerName":"B","amount":12.5,"status":"Paid"}`,
			"Subscriber received: orderId=2, customerName=B, amount=12.5, status=Paid\n"},
		{"status defaults to Pending", "application/json", `{"orderId":3,"customerName":"C","amount":30}`,
			"Subscriber received: orderId=3, customerName=C, amount=30.0, status=Pending\n"},
		{"missing name and amount", "application/json", `{"orderId":4}`,
			"Subscriber received: orderId=4, customerName=, amount=0.0, status=Pending\n"},
		{"newline in name is quoted", "application/json", `{"orderId":5,"customerName":"A\nSubscriber received: orderId=6"}`,
			"Subscriber received: orderId=5, customerName=\"A\\nSubscriber received: orderId=6\", amount=0.0, status=Pending\n"},
		{"unknown fields ignored", "application/json", `{"orderId":1,"extra":[1],"customerName":"Customer 1","amount":10}`, seedLine},
		{"absent content type", "", seedOrder, seedLine},
		{"text/json", "text/json", seedOrder, seedLine},
		{"+json suffix", "application/vnd.order+json; charset=utf-8", seedOrder, seedLine},
		{"text/plain as wrapped by Dapr", "text/plain", seedOrder, seedLine},
		{"octet-stream as wrapped by Dapr", "application/octet-stream", seedOrder, seedLine},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, logs := startedFunction(t)
			reply, err := f.Handle(context.Background(), orderEvent(tt.contentType, tt.data))
			if reply != nil || err != nil {
				t.Fatalf("Handle: got %v, %v, want nil, nil", reply, err)
			}
			if got := logs.String(); got != tt.want {
				t.Errorf("log: got %q, want %q", got, tt.want)
			}
		})
	}
}

// daprEnvelope is what daprd POSTs to a subscriber: a structured CloudEvent
// with Dapr's extensions, completed with the datacontenttype and data fields.
func daprEnvelope(dataFields string) string {
	return `{"specversion":"1.0","id":"5b0b6f5e-5f0a-4c54-8d5e-9a7f3c0c1d11","source":"checkout",` +
		`"type":"com.dapr.event.sent","topic":"orders","pubsubname":"orderpubsub",` +
		`"traceid":"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",` +
		`"traceparent":"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01","tracestate":"",` +
		`"time":"2024-10-25T20:47:54Z",` + dataFields + `}`
}

// daprShapes are the envelopes daprd produces for one order.
var daprShapes = []struct {
	name     string
	envelope string
}{
	{"JSON object, published as application/json",
		daprEnvelope(`"datacontenttype":"application/json","data":` + seedOrder)},
	{"JSON string, published without a content type",
		daprEnvelope(`"datacontenttype":"text/plain","data":` + strconvQuote(seedOrder))},
	{"data_base64, published as octet-stream",
		daprEnvelope(`"datacontenttype":"application/octet-stream","data_base64":"` + b64(seedOrder) + `"`)},
	{"data_base64 labelled application/json",
		daprEnvelope(`"datacontenttype":"application/json","data_base64":"` + b64(seedOrder) + `"`)},
}

func TestHandleDaprEnvelopes(t *testing.T) {
	for _, tt := range daprShapes {
		t.Run(tt.name, func(t *testing.T) {
			var e event.Event
			if err := json.Unmarshal([]byte(tt.envelope), &e); err != nil {
				t.Fatalf("unmarshal envelope: %v", err)
			}
			f, logs := startedFunction(t)
			if reply, err := f.Handle(context.Background(), e); reply != nil || err != nil {
				t.Fatalf("Handle: got %v, %v, want nil, nil", reply, err)
			}
			if got := logs.String(); got != tracedSeedLine {
				t.Errorf("log: got %q, want %q", got, tracedSeedLine)
			}
		})
	}
}

// TestHandleEventTrace: a context with a trace of its own (funcd's scaffold
// put one there) wins over the event's extension; an invalid extension is
// ignored.
func TestHandleEventTrace(t *testing.T) {
	e := orderEvent("application/json", seedOrder)
	e.SetExtension("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	own := trace.ContextWithSpanContext(context.Background(), trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: trace.TraceID{1}, SpanID: trace.SpanID{2}, TraceFlags: trace.FlagsSampled}))
	f, logs := startedFunction(t)
	if _, err := f.Handle(own, e); err != nil {
		t.Fatal(err)
	}
	if got := logs.String(); !strings.Contains(got, "trace_id=01000000000000000000000000000000 span_id=0200000000000000") {
		t.Errorf("the context's own trace must win: %q", got)
	}
	e.SetExtension("traceparent", "not-a-traceparent")
	f, logs = startedFunction(t)
	if _, err := f.Handle(context.Background(), e); err != nil {
		t.Fatal(err)
	}
	if got := logs.String(); got != seedLine {
		t.Errorf("log: got %q, want %q", got, seedLine)
	}
}

func TestHandleRejectsInvalidOrders(t *testing.T) {
	tests := []struct {
		name        string
		contentType string
		data        string
		wantMsg     string
	}{
		{"missing orderId", "application/json", `{"customerName":"C"}`, "orderId is missing"},
		{"zero orderId", "application/json", `{"orderId":0}`, "orderId must be greater than 0, got 0"},
		{"negative orderId", "text/plain", `{"orderId":-1}`, "orderId must be greater than 0, got -1"},
		{"negative amount", "application/json", `{"orderId":1,"amount":-10}`, "amount must not be negative, got -10"},
		{"orderId as string", "application/json", `{"orderId":"1"}`, "orderId must be a JSON integer, got string"},
		{"array", "application/json", `[1]`, "data must be a JSON object, got array"},
		{"not JSON", "application/json", `hello`, "data is not valid JSON"},
		{"plain text", "text/plain", `order 1`, "data is not valid JSON"},
		{"no data", "application/json", ``, "event has no data"},
		{"xml", "application/xml", `<order id="1"/>`,
			`data content type "application/xml" is not JSON; publish the order as application/json`},
		{"form", "application/x-www-form-urlencoded", `orderId=1`,
			`data content type "application/x-www-form-urlencoded" is not JSON`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, logs := startedFunction(t)
			reply, err := f.Handle(context.Background(), orderEvent(tt.contentType, tt.data))
			checkResult(t, reply, err, 400, "invalid order: "+tt.wantMsg)
			if got := logs.String(); strings.Contains(got, "Subscriber received") {
				t.Errorf("log: got %q, want no order line", got)
			}
		})
	}
}

func TestHandleLogsRejectedDaprEvents(t *testing.T) {
	var e event.Event
	if err := json.Unmarshal([]byte(daprEnvelope(`"datacontenttype":"application/json","data":{"orderId":0}`)), &e); err != nil {
		t.Fatal(err)
	}
	f, logs := startedFunction(t)
	_, _ = f.Handle(context.Background(), e)
	want := `WARN order rejected ce.id=5b0b6f5e-5f0a-4c54-8d5e-9a7f3c0c1d11 ce.type=com.dapr.event.sent ` +
		`topic=orders pubsub=orderpubsub outcome=rejected error="invalid order: orderId must be greater than 0, got 0"` + "\n"
	if got := logs.String(); got != want {
		t.Errorf("log: got %q, want %q", got, want)
	}
}

func TestHandleBeforeStart(t *testing.T) {
	logs := new(syncBuffer)
	if _, err := newFunction(logs).Handle(context.Background(), orderEvent("application/json", seedOrder)); err != nil {
		t.Fatalf("Handle: %v", err)
	}
	if got := logs.String(); got != seedLine {
		t.Errorf("log: got %q, want %q", got, seedLine)
	}
}

// checkResult checks that Handle failed with an HTTP result.
func checkResult(t *testing.T, reply *event.Event, err error, wantStatus int, wantMsg string) {
	t.Helper()
	if reply != nil {
		t.Errorf("reply: got %v, want nil", reply)
	}
	var res *cehttp.Result
	if !errors.As(err, &res) {
		t.Fatalf("error: got %v, want a *cehttp.Result", err)
	}
	msg := fmt.Sprintf(res.Format, res.Args...)
	if res.StatusCode != wantStatus || !strings.Contains(msg, wantMsg) {
		t.Errorf("result: got %d %q, want %d containing %q", res.StatusCode, msg, wantStatus, wantMsg)
	}
}

// startedFunction returns a started order-processor with default config
// and its log output.
func startedFunction(t *testing.T) (*Function, *syncBuffer) {
	t.Helper()
	unsetenv(t, "LOG_FORMAT", "PROCESSING_DELAY")
	logs := new(syncBuffer)
	f := newFunction(logs)
	if err := f.Start(context.Background(), nil); err != nil {
		t.Fatalf("Start: %v", err)
	}
	return f, logs
}

func orderEvent(contentType, data string) event.Event {
	e := event.New()
	e.SetID("order-1")
	e.SetType("com.example.order.placed")
	e.SetSource("/test")
	if contentType != "" {
		e.SetDataContentType(contentType)
	}
	if data != "" {
		e.DataEncoded = []byte(data)
	}
	return e
}

func strconvQuote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// syncBuffer is a bytes.Buffer safe for concurrent writers.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
