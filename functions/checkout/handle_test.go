package function

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/cloudevents/sdk-go/v2/event"
	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"
	dapr "github.com/dapr/go-sdk/client"
	"github.com/google/uuid"
	"google.golang.org/grpc/metadata"
)

func TestHandleAcceptsOrders(t *testing.T) {
	tests := []struct {
		name        string
		contentType string
		data        string
		want        Order
	}{
		{"full order", "application/json", `{"orderId":1,"customerName":"Customer 1","amount":10.0,"status":"Pending"}`,
			Order{OrderID: 1, CustomerName: "Customer 1", Amount: 10, Status: "Pending"}},
		{"status defaults to Pending", "application/json", `{"orderId":2,"amount":20}`,
			Order{OrderID: 2, Amount: 20, Status: "Pending"}},
		{"status kept", "application/json", `{"orderId":3,"status":"Paid"}`, Order{OrderID: 3, Status: "Paid"}},
		{"unknown fields ignored", "application/json", `{"orderId":4,"coupon":"X","items":[1,2]}`,
			Order{OrderID: 4, Status: "Pending"}},
		{"zero amount", "application/json", `{"orderId":5,"amount":0}`, Order{OrderID: 5, Status: "Pending"}},
		{"charset parameter", "application/json; charset=utf-8", `{"orderId":6}`, Order{OrderID: 6, Status: "Pending"}},
		{"text/json", "text/json", `{"orderId":7}`, Order{OrderID: 7, Status: "Pending"}},
		{"+json suffix", "application/vnd.order+json", `{"orderId":8}`, Order{OrderID: 8, Status: "Pending"}},
		{"absent content type", "", `{"orderId":9}`, Order{OrderID: 9, Status: "Pending"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pub := &fakePublisher{}
			f, logs := startedFunction(t, pub)

			reply, err := f.Handle(context.Background(), orderEvent(tt.contentType, tt.data))
			if err != nil {
				t.Fatalf("Handle: got error %v, want nil", err)
			}
			if got := pub.only(t); got != (published{"orderpubsub", "orders", tt.want}) {
				t.Errorf("published: got %+v, want %+v", got, published{"orderpubsub", "orders", tt.want})
			}
			checkReply(t, reply, tt.want)
			wantLog := "Published data: " + mustJSON(t, tt.want) + "\n"
			if got := logs.String(); !strings.Contains(got, wantLog) {
				t.Errorf("logs: got %q, want a line %q", got, wantLog)
			}
		})
	}
}

func TestHandlePublishedLineMatchesSeed(t *testing.T) {
	f, logs := startedFunction(t, &fakePublisher{})
	data := `{"orderId":1,"customerName":"Customer 1","amount":10.0,"status":"Pending"}`
	if _, err := f.Handle(context.Background(), orderEvent("application/json", data)); err != nil {
		t.Fatal(err)
	}
	want := `Published data: {"orderId":1,"customerName":"Customer 1","amount":10,"status":"Pending"}` + "\n"
	if got := logs.String(); got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestHandleRejectsInvalidOrders(t *testing.T) {
	tests := []struct {
		name        string
		contentType string
		data        string
		wantMsg     string
	}{
		{"missing orderId", "application/json", `{"customerName":"C","amount":1}`, "orderId is missing"},
		{"zero orderId", "application/json", `{"orderId":0}`, "orderId must be greater than 0, got 0"},
		{"negative orderId", "application/json", `{"orderId":-4}`, "orderId must be greater than 0, got -4"},
		{"negative amount", "application/json", `{"orderId":1,"amount":-0.5}`, "amount must not be negative, got -0.5"},
		{"orderId as string", "application/json", `{"orderId":"1"}`, "orderId must be a JSON integer, got string"},
		{"fractional orderId", "application/json", `{"orderId":1.5}`, "orderId must be a JSON integer, got number 1.5"},
		{"amount as string", "application/json", `{"orderId":1,"amount":"10"}`, "amount must be a JSON number, got string"},
		{"array", "application/json", `[{"orderId":1}]`, "data must be a JSON object, got array"},
		{"null", "application/json", `null`, "orderId is missing"},
		{"not JSON", "application/json", `orderId=1`, "data is not valid JSON"},
		{"truncated JSON", "application/json", `{"orderId":1`, "data is not valid JSON"},
		{"no data", "application/json", ``, "event has no data"},
		{"text/plain", "text/plain", `{"orderId":1}`, `data content type "text/plain" is not JSON; send the order as application/json`},
		{"form", "application/x-www-form-urlencoded", `orderId=1`, `data content type "application/x-www-form-urlencoded" is not JSON; send the order as application/json`},
		{"xml", "application/xml", `<order id="1"/>`, `data content type "application/xml" is not JSON; send the order as application/json`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pub := &fakePublisher{}
			f, _ := startedFunction(t, pub)

			reply, err := f.Handle(context.Background(), orderEvent(tt.contentType, tt.data))
			checkResult(t, reply, err, 400, "invalid order: "+tt.wantMsg)
			if len(pub.all()) != 0 {
				t.Errorf("published: got %v, want nothing", pub.all())
			}
		})
	}
}

func TestHandlePublishFailureIsRetryable(t *testing.T) {
	pub := &fakePublisher{err: errors.New("broker down")}
	f, _ := startedFunction(t, pub)
	reply, err := f.Handle(context.Background(), orderEvent("application/json", `{"orderId":1}`))
	checkResult(t, reply, err, 503, "publish order 1 to orderpubsub/orders: broker down")
}

func TestHandleBeforeStart(t *testing.T) {
	f := newFunction(new(syncBuffer), nil)
	tests := []struct {
		name       string
		data       string
		wantStatus int
		wantMsg    string
	}{
		{"valid order waits for the sidecar", `{"orderId":1}`, 503, "not ready"},
		{"invalid order is still invalid", `{"orderId":0}`, 400, "invalid order"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reply, err := f.Handle(context.Background(), orderEvent("application/json", tt.data))
			checkResult(t, reply, err, tt.wantStatus, tt.wantMsg)
		})
	}
}

// checkReply checks the accepted event that answers order.
func checkReply(t *testing.T, reply *event.Event, order Order) {
	t.Helper()
	if reply == nil {
		t.Fatal("reply: got nil, want an event")
	}
	got := [...]string{reply.Type(), reply.Source(), reply.Subject(), reply.DataContentType(), string(reply.Data())}
	want := [...]string{AcceptedType, AcceptedSource, fmt.Sprint(order.OrderID), "application/json", mustJSON(t, order)}
	if got != want {
		t.Errorf("reply: got %q, want %q", got, want)
	}
	if _, err := uuid.Parse(reply.ID()); err != nil {
		t.Errorf("reply id: got %q, want a uuid (%v)", reply.ID(), err)
	}
	if err := reply.Validate(); err != nil {
		t.Errorf("reply: got invalid event: %v", err)
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

// startedFunction returns a started checkout that publishes to pub with the
// default configuration, and its log output.
func startedFunction(t *testing.T, pub *fakePublisher) (*Function, *syncBuffer) {
	t.Helper()
	unsetenv(t, "PUBSUB_NAME", "TOPIC", "DAPR_GRPC_ENDPOINT", "DAPR_GRPC_PORT", "LOG_FORMAT")
	logs := new(syncBuffer)
	f := newFunction(logs, func(context.Context, string) (publisher, error) { return pub, nil })
	if err := f.Start(context.Background(), nil); err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() { _ = f.Stop(context.Background()) })
	logs.Reset() // drop the "connected" line
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

// published is one PublishEvent call.
type published struct {
	pubsub, topic string
	data          any
}

// fakePublisher records PublishEvent calls and fails them with err.
type fakePublisher struct {
	mu     sync.Mutex
	calls  []published
	err    error
	closed bool
	// traceparents is the traceparent gRPC metadata of each call.
	traceparents []string
}

var _ publisher = (*fakePublisher)(nil)

func (p *fakePublisher) PublishEvent(ctx context.Context, pubsub, topic string, data any, _ ...dapr.PublishEventOption) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.err != nil {
		return p.err
	}
	p.calls = append(p.calls, published{pubsub, topic, data})
	md, _ := metadata.FromOutgoingContext(ctx)
	p.traceparents = append(p.traceparents, strings.Join(md.Get("traceparent"), ","))
	return nil
}

func (p *fakePublisher) Close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
}

func (p *fakePublisher) all() []published {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]published(nil), p.calls...)
}

func (p *fakePublisher) only(t *testing.T) published {
	t.Helper()
	calls := p.all()
	if len(calls) != 1 {
		t.Fatalf("publish calls: got %d, want 1", len(calls))
	}
	return calls[0]
}

func (p *fakePublisher) isClosed() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.closed
}

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

func (b *syncBuffer) Reset() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf.Reset()
}

func TestCronTickMakesTheNextDemoOrder(t *testing.T) {
	pub := &fakePublisher{}
	f, _ := startedFunction(t, pub)
	for want := 1; want <= 2; want++ {
		e := event.New()
		e.SetID("tick")
		e.SetSource("checkout-every-second")
		e.SetType(CronType)
		if _, err := f.Handle(context.Background(), e); err != nil {
			t.Fatalf("tick %d: %v", want, err)
		}
		calls := pub.all()
		got, ok := calls[len(calls)-1].data.(Order)
		if !ok {
			t.Fatalf("tick %d published %T, want an Order", want, calls[len(calls)-1].data)
		}
		if got.OrderID != want || got.CustomerName != "Customer "+strconv.Itoa(want) || got.Amount != float64(want)*10 || got.Status != "Pending" {
			t.Errorf("tick %d published %+v, want order %d of the demo", want, got, want)
		}
	}
}
