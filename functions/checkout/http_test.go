package function

import (
	"encoding/json"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/google/uuid"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// binary returns the headers of a binary-mode CloudEvent (what curl,
// `func invoke` and Knative Eventing send).
func binary(contentType string) map[string]string {
	return map[string]string{
		"Ce-Specversion": "1.0", "Ce-Id": "order-1", "Ce-Type": "com.example.order.placed",
		"Ce-Source": "/test", "Content-Type": contentType,
	}
}

// structured is the header of a structured-mode CloudEvent.
var structured = map[string]string{"Content-Type": "application/cloudevents+json"}

func TestHTTPCheckout(t *testing.T) {
	order := `{"orderId":1,"customerName":"Customer 1","amount":10.0}`
	tests := []struct {
		name       string
		header     map[string]string
		body       string
		wantStatus int
		wantBody   string // substring for errors, exact JSON for replies
	}{
		{"binary order", binary("application/json"), order, 200,
			`{"orderId":1,"customerName":"Customer 1","amount":10,"status":"Pending"}`},
		{"structured order", structured,
			`{"specversion":"1.0","id":"1","source":"/test","type":"com.example.order.placed",` +
				`"datacontenttype":"application/json","data":` + order + `}`, 200,
			`{"orderId":1,"customerName":"Customer 1","amount":10,"status":"Pending"}`},
		{"binary missing orderId", binary("application/json"), `{"amount":1}`, 400,
			"invalid order: orderId is missing"},
		{"binary negative amount", binary("application/json"), `{"orderId":1,"amount":-1}`, 400,
			"invalid order: amount must not be negative"},
		{"binary not JSON", binary("application/json"), `orderId=1`, 400, "invalid order: data is not valid JSON"},
		{"curl -d default content type", binary("application/x-www-form-urlencoded"), order, 400,
			`data content type "application/x-www-form-urlencoded" is not JSON; send the order as application/json`},
		{"structured text/plain", structured,
			`{"specversion":"1.0","id":"1","source":"/test","type":"com.example.order.placed",` +
				`"datacontenttype":"text/plain","data":"{\"orderId\":1}"}`, 400,
			`data content type "text/plain" is not JSON`},
	}
	dapr := &fakeDapr{}
	serveDapr(t, listenDapr(t), dapr)
	base := serve(t, newFunction(new(syncBuffer), dialDapr))
	waitReady(t, base)

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(dapr.requests())
			status, header, body := send(t, http.MethodPost, base, tt.header, tt.body)
			if status != tt.wantStatus {
				t.Fatalf("status: got %d (%q), want %d", status, body, tt.wantStatus)
			}
			if status != http.StatusOK {
				if !strings.Contains(body, tt.wantBody) {
					t.Errorf("body: got %q, want it to contain %q", body, tt.wantBody)
				}
				if n := len(dapr.requests()) - before; n != 0 {
					t.Errorf("published: got %d events, want 0", n)
				}
				return
			}
			checkReplyHeaders(t, header, body, tt.wantBody)
			checkPublished(t, dapr, before, tt.wantBody)
		})
	}
}

func checkReplyHeaders(t *testing.T, header http.Header, body, wantBody string) {
	t.Helper()
	got := [...]string{header.Get("Ce-Type"), header.Get("Ce-Source"), header.Get("Ce-Subject"),
		header.Get("Content-Type"), body}
	want := [...]string{AcceptedType, AcceptedSource, "1", "application/json", wantBody}
	if got != want {
		t.Errorf("reply: got %q, want %q", got, want)
	}
	if _, err := uuid.Parse(header.Get("Ce-Id")); err != nil {
		t.Errorf("Ce-Id: got %q, want a uuid", header.Get("Ce-Id"))
	}
}

func checkPublished(t *testing.T, dapr *fakeDapr, before int, wantData string) {
	t.Helper()
	reqs := dapr.requests()
	if len(reqs) != before+1 {
		t.Fatalf("published: got %d events, want 1", len(reqs)-before)
	}
	req := reqs[before]
	got := [...]string{req.GetPubsubName(), req.GetTopic(), req.GetDataContentType(), string(req.GetData())}
	want := [...]string{"orderpubsub", "orders", "application/json", wantData}
	if got != want {
		t.Errorf("PublishEventRequest: got %q, want %q", got, want)
	}
	if !json.Valid(req.GetData()) {
		t.Errorf("published data: got %q, want JSON", req.GetData())
	}
}

func TestHTTPPublishFailureIsRetryable(t *testing.T) {
	dapr := &fakeDapr{err: status.Error(codes.Unavailable, "redis is down")}
	serveDapr(t, listenDapr(t), dapr)
	base := serve(t, newFunction(new(syncBuffer), dialDapr))
	waitReady(t, base)

	code, _, body := send(t, http.MethodPost, base, binary("application/json"), `{"orderId":1}`)
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "redis is down") {
		t.Errorf("got %d %q, want 503 naming the publish error", code, body)
	}
}

// TestHTTPPublishRefusals: what the sidecar refuses for good gets a final
// 4xx, so Knative Eventing, Dapr and the binding do not retry it forever.
func TestHTTPPublishRefusals(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want int
	}{
		{"over gRPC's limit", status.Error(codes.ResourceExhausted, "grpc: received message larger than max (5000105 vs. 4194304)"), 413},
		{"over the broker's limit", status.Error(codes.ResourceExhausted, "message too large: maximum payload exceeded"), 413},
		{"invalid topic", status.Error(codes.InvalidArgument, "invalid topic: wildcards"), 400},
		{"broker down", status.Error(codes.Internal, "nats: no responders"), 503},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			serveDapr(t, listenDapr(t), &fakeDapr{err: tt.err})
			base := serve(t, newFunction(new(syncBuffer), dialDapr))
			waitReady(t, base)
			code, _, body := send(t, http.MethodPost, base, binary("application/json"), `{"orderId":1}`)
			if code != tt.want || !strings.Contains(body, statusMessage(tt.err)) {
				t.Errorf("got %d %q, want %d naming the refusal", code, body, tt.want)
			}
		})
	}
}

func statusMessage(err error) string { return status.Convert(err).Message() }

func TestHTTPForbiddenPublishIsFinal(t *testing.T) {
	dapr := &fakeDapr{err: status.Error(codes.PermissionDenied, "topic orders is not allowed for app id checkout")}
	serveDapr(t, listenDapr(t), dapr)
	base := serve(t, newFunction(new(syncBuffer), dialDapr))
	waitReady(t, base)

	code, _, body := send(t, http.MethodPost, base, binary("application/json"), `{"orderId":1}`)
	if code != http.StatusForbidden || !strings.Contains(body, "not allowed for app id checkout") {
		t.Errorf("got %d %q, want 403 naming the refusal", code, body)
	}
}

func TestHTTPReadinessWaitsForTheSidecar(t *testing.T) {
	lis := listenDapr(t) // accepts TCP but speaks no gRPC yet: the dial blocks
	base := serve(t, newFunction(new(syncBuffer), dialDapr))

	if code, _, body := send(t, http.MethodGet, base+"/health/readiness", nil, ""); code != 503 {
		t.Errorf("readiness before the sidecar: got %d %q, want 503", code, body)
	}
	code, _, body := send(t, http.MethodPost, base, binary("application/json"), `{"orderId":1}`)
	if code != 503 || !strings.Contains(body, "not ready") {
		t.Errorf("order before the sidecar: got %d %q, want 503 not ready", code, body)
	}
	if code, _, _ := send(t, http.MethodGet, base+"/health/liveness", nil, ""); code != 200 {
		t.Errorf("liveness: got %d, want 200", code)
	}

	dapr := &fakeDapr{}
	serveDapr(t, lis, dapr)
	waitReady(t, base)
	if code, _, body := send(t, http.MethodPost, base, binary("application/json"), `{"orderId":1}`); code != 200 {
		t.Errorf("order after the sidecar: got %d %q, want 200", code, body)
	}
}

func TestNewLogsToStdout(t *testing.T) {
	if f := New(); f.out != os.Stdout {
		t.Errorf("New().out: got %v, want os.Stdout", f.out)
	}
}
