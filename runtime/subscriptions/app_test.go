package subscriptions

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/funcd/funcd/runtime/delivery"
	"github.com/funcd/funcd/runtime/pubsub"
	"github.com/funcd/funcd/runtime/resources"
)

func TestClassifyApp(t *testing.T) {
	tests := []struct {
		name   string
		status int
		body   string
		err    error
		want   delivery.Outcome
	}{
		{"2xx empty", 200, "", nil, delivery.Ack},
		{"204", 204, "", nil, delivery.Ack},
		{"2xx not json", 200, "ok", nil, delivery.Ack},
		{"2xx json array", 200, `[1]`, nil, delivery.Ack},
		{"2xx status not a string", 200, `{"status":5}`, nil, delivery.Ack},
		{"2xx no status", 200, `{"success":true}`, nil, delivery.Ack},
		{"2xx empty status", 200, `{"status":""}`, nil, delivery.Ack},
		{"SUCCESS", 200, `{"status":"SUCCESS"}`, nil, delivery.Ack},
		{"RETRY", 200, `{"status":"RETRY"}`, nil, delivery.Retry},
		{"DROP", 200, `{"status":"DROP"}`, nil, delivery.DeadLetter},
		{"unknown status", 200, `{"status":"shipped"}`, nil, delivery.Retry},
		{"lower-case success is unknown", 200, `{"status":"success"}`, nil, delivery.Retry},
		{"DROP on 201", 201, `{"status":"DROP"}`, nil, delivery.DeadLetter},
		{"404", 404, `{"status":"SUCCESS"}`, nil, delivery.Drop},
		{"400 retries for apps", 400, "", nil, delivery.Retry},
		{"500", 500, "", nil, delivery.Retry},
		{"303", 303, "", nil, delivery.Retry},
		{"transport error", 0, "", errors.New("connection refused"), delivery.Retry},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ClassifyApp(tt.status, []byte(tt.body), tt.err); got != tt.want {
				t.Errorf("ClassifyApp(%d, %q) = %s, want %s", tt.status, tt.body, got, tt.want)
			}
		})
	}
}

// appServer records what a Dapr app receives and answers with status/body.
type appServer struct {
	mu     sync.Mutex
	got    []*http.Request
	bodies []string
	status int
	body   string
}

func (a *appServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	a.mu.Lock()
	a.got, a.bodies = append(a.got, r), append(a.bodies, string(b))
	status, body := a.status, a.body
	a.mu.Unlock()
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

func TestAppDelivery(t *testing.T) {
	const envelope = `{"specversion":"1.0","id":"e1","source":"checkout","type":"com.dapr.event.sent",` +
		`"datacontenttype":"application/json","data":{"orderId":1},"topic":"orders","pubsubname":"orderpubsub",` +
		`"traceparent":"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}`
	tests := []struct {
		name          string
		status        int
		body          string
		deadLetter    string
		wantErr       bool // handed back to the broker
		wantDead      int
		wantCalls     int
		wantDropped   int64
		wantDelivered int64
	}{
		{name: "success", status: 200, body: `{"status":"SUCCESS"}`, wantCalls: 1, wantDelivered: 1},
		{name: "retry without dead letter goes back to the broker", status: 200, body: `{"status":"RETRY"}`, wantErr: true, wantCalls: 1},
		{name: "retry with dead letter", status: 200, body: `{"status":"RETRY"}`, deadLetter: "dlq", wantDead: 1, wantCalls: 1},
		{name: "drop with dead letter", status: 200, body: `{"status":"DROP"}`, deadLetter: "dlq", wantDead: 1, wantCalls: 1},
		{name: "drop without dead letter", status: 200, body: `{"status":"DROP"}`, wantCalls: 1, wantDropped: 1},
		{name: "404 drops, never dead-letters", status: 404, deadLetter: "dlq", wantCalls: 1, wantDropped: 1},
		{name: "500 with dead letter", status: 500, deadLetter: "dlq", wantDead: 1, wantCalls: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			app := &appServer{status: tt.status, body: tt.body}
			srv := httptest.NewServer(app)
			defer srv.Close()
			ps := &fakePubSub{}
			b, err := New(Config{
				Subscriptions: []resources.Subscription{{Name: "s", PubsubName: "orderpubsub", Topic: "orders",
					Routes: resources.Routes{Default: "orders/new"}, DeadLetterTopic: tt.deadLetter}},
				PubSubs: registry{"orderpubsub": ps}, Target: staticTarget{"/orders/new": srv.URL},
				Retry: delivery.RetryPolicy{Multiplier: 1}, App: &App{ID: "sub", Token: "app-token"},
			})
			if err != nil {
				t.Fatal(err)
			}
			if err := b.Start(context.Background()); err != nil {
				t.Fatal(err)
			}
			defer b.Stop(context.Background())
			msg := &pubsub.Message{Topic: "orders", Data: []byte(envelope), Metadata: map[string]string{"pubsubName": "orderpubsub"}}
			err = ps.handlers["orders"](context.Background(), msg)
			if (err != nil) != tt.wantErr {
				t.Fatalf("handler error = %v, want error %v", err, tt.wantErr)
			}
			if got := len(ps.publishedOn("dlq")); got != tt.wantDead {
				t.Errorf("dead-lettered %d, want %d", got, tt.wantDead)
			}
			app.mu.Lock()
			defer app.mu.Unlock()
			if len(app.got) != tt.wantCalls {
				t.Fatalf("app called %d times, want %d", len(app.got), tt.wantCalls)
			}
			r := app.got[0]
			if r.URL.Path != "/orders/new" || r.Method != http.MethodPost {
				t.Errorf("got %s %s, want POST /orders/new", r.Method, r.URL.Path)
			}
			if app.bodies[0] != envelope {
				t.Errorf("body = %s, want the stored envelope unchanged", app.bodies[0])
			}
			for k, want := range map[string]string{"Content-Type": "application/cloudevents+json", "dapr-api-token": "app-token",
				"pubsubName": "orderpubsub", "traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"} {
				if got := r.Header.Get(k); got != want {
					t.Errorf("header %s = %q, want %q", k, got, want)
				}
			}
			c := b.Status()[0].Counts
			if c.Dropped != tt.wantDropped || c.Delivered != tt.wantDelivered {
				t.Errorf("counts %+v, want dropped %d delivered %d", c, tt.wantDropped, tt.wantDelivered)
			}
		})
	}
}
