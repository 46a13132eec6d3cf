package sidecar

import (
	"context"
	"io"
	"net/http"
	"testing"

	runtimev1pb "github.com/dapr/dapr/pkg/proto/runtime/v1"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

const testToken = "s3cret"

func TestAPITokenHTTP(t *testing.T) {
	e := startEnv(t, WithAPIToken(testToken))
	tests := []struct {
		name   string
		method string
		path   string
		token  string
		want   int
	}{
		{name: "publish without token", method: http.MethodPost, path: "/v1.0/publish/orderpubsub/orders", want: 401},
		{name: "publish with wrong token", method: http.MethodPost, path: "/v1.0/publish/orderpubsub/orders", token: "nope", want: 401},
		{name: "publish with token", method: http.MethodPost, path: "/v1.0/publish/orderpubsub/orders", token: testToken, want: 204},
		{name: "bulk without token", method: http.MethodPost, path: "/v1.0-alpha1/publish/bulk/orderpubsub/orders", want: 401},
		{name: "metadata without token", method: http.MethodGet, path: "/v1.0/metadata", want: 401},
		{name: "unknown route without token", method: http.MethodGet, path: "/v1.0/state/x", want: 401},
		{name: "healthz open", method: http.MethodGet, path: "/v1.0/healthz", want: 204},
		{name: "healthz with trailing slash open", method: http.MethodGet, path: "/v1.0/healthz/", want: 204},
		{name: "outbound healthz open", method: http.MethodGet, path: "/v1.0/healthz/outbound", want: 204},
		{name: "healthz POST not open", method: http.MethodPost, path: "/v1.0/healthz", want: 401},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, e.httpURL+tc.path, nil)
			if tc.token != "" {
				req.Header.Set("dapr-api-token", tc.token)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Fatalf("status: got %d, want %d", resp.StatusCode, tc.want)
			}
			if tc.want == 401 && string(body) != "invalid api token\n" {
				t.Errorf("body: got %q, want daprd's %q", body, "invalid api token\n")
			}
		})
	}
}

// TestAPITokenGRPC: a call without the right token is refused as daprd
// refuses it (Unauthenticated, "Unauthorized"), but before its message is
// read, so gRPC sends no ErrorInfo detail with it (daprd's names the cause).
func TestAPITokenGRPC(t *testing.T) {
	e := startEnv(t, WithAPIToken(testToken))
	client := e.protoClient(t)
	tests := []struct {
		name       string
		md         metadata.MD
		wantCode   codes.Code
		wantDetail string
	}{
		{name: "no token", wantCode: codes.Unauthenticated},
		{name: "wrong token", md: metadata.Pairs("dapr-api-token", "nope"), wantCode: codes.Unauthenticated},
		{name: "right token", md: metadata.Pairs("dapr-api-token", testToken), wantCode: codes.OK},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := metadata.NewOutgoingContext(context.Background(), tc.md)
			_, err := client.PublishEvent(ctx, &runtimev1pb.PublishEventRequest{PubsubName: testPubSub, Topic: testTopic})
			st := status.Convert(err)
			if st.Code() != tc.wantCode {
				t.Fatalf("code: got %s, want %s", st.Code(), tc.wantCode)
			}
			if tc.wantCode == codes.OK {
				return
			}
			if st.Message() != "Unauthorized" || errorDetail(st) != tc.wantDetail {
				t.Errorf("status: got %q / %q, want %q / %q", st.Message(), errorDetail(st), "Unauthorized", tc.wantDetail)
			}
		})
	}
}

// TestAPITokenBeforeTheMessage: a call without the token is refused before
// the server reads its message, so callers without it cannot make the
// server hold messages of up to the size limit.
func TestAPITokenBeforeTheMessage(t *testing.T) {
	e := startEnv(t, WithAPIToken(testToken))
	client := e.protoClient(t)
	big := make([]byte, DefaultMaxBodyBytes+1) // the server would answer ResourceExhausted had it read it
	_, err := client.PublishEvent(context.Background(), &runtimev1pb.PublishEventRequest{PubsubName: testPubSub, Topic: testTopic, Data: big})
	if got := status.Code(err); got != codes.Unauthenticated {
		t.Errorf("got %s, want Unauthenticated before the message is read", got)
	}
}

func TestAPITokenSDK(t *testing.T) {
	e := startEnv(t, WithAPIToken(testToken))
	client := e.dialedSDKClient(t)
	if err := client.PublishEvent(context.Background(), testPubSub, testTopic, []byte("x")); status.Code(err) != codes.Unauthenticated {
		t.Fatalf("without token: got %v, want Unauthenticated", err)
	}
	client.WithAuthToken(testToken)
	if err := client.PublishEvent(context.Background(), testPubSub, testTopic, []byte("x")); err != nil {
		t.Fatalf("with token: %v", err)
	}
}

func errorDetail(st *status.Status) string {
	for _, d := range st.Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok {
			return info.GetMetadata()["http.error_message"]
		}
	}
	return ""
}
