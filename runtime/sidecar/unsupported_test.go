package sidecar

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	runtimev1pb "github.com/dapr/dapr/pkg/proto/runtime/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
)

func TestUnsupportedHTTP(t *testing.T) {
	e := startEnv(t)
	tests := []struct {
		method, path string
		wantStatus   int
		wantCode     string
		wantIn       string
	}{
		{"GET", "/v1.0/state/statestore/order-1", 501, CodeNotSupported, "the state management API (GET /v1.0/state/statestore/order-1)"},
		{"POST", "/v1.0/state/statestore", 501, CodeNotSupported, "state management"},
		{"POST", "/v1.0/invoke/checkout/method/orders", 501, CodeNotSupported, "service invocation"},
		{"POST", "/v1.0/bindings/cron", 501, CodeNotSupported, "bindings"},
		{"GET", "/v1.0/secrets/vault/key", 501, CodeNotSupported, "secrets"},
		{"PUT", "/v1.0/actors/Cart/1/state", 501, CodeNotSupported, "actors"},
		{"GET", "/v1.0/configuration/store?key=a", 501, CodeNotSupported, "configuration"},
		{"POST", "/v1.0-alpha1/lock/redis", 501, CodeNotSupported, "distributed lock"},
		{"POST", "/v1.0-beta1/workflows/dapr/wf/start", 501, CodeNotSupported, "workflow"},
		{"POST", "/v1.0-alpha1/jobs/nightly", 501, CodeNotSupported, "jobs"},
		{"PUT", "/v1.0/metadata/label", 501, CodeNotSupported, "metadata labels"},
		{"POST", "/v1.0/shutdown", 501, CodeNotSupported, "shutdown"},
		{"GET", "/v1.0/publish/orderpubsub/orders", 404, codeDirectInvoke, "GET /v1.0/publish/orderpubsub/orders is not part of it"},
		{"GET", "/hello", 404, codeDirectInvoke, "GET /hello is not part of it"},
	}
	client := &http.Client{Timeout: 5 * time.Second}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			req, _ := http.NewRequest(tt.method, e.httpURL+tt.path, strings.NewReader("{}"))
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			var got struct{ ErrorCode, Message string }
			if err := json.Unmarshal(body, &got); err != nil {
				t.Fatalf("body %q is not Dapr's error shape: %v", body, err)
			}
			if resp.StatusCode != tt.wantStatus || got.ErrorCode != tt.wantCode || resp.Header.Get("Content-Type") != jsonContentType {
				t.Errorf("got %d %s (%s), want %d %s", resp.StatusCode, got.ErrorCode, resp.Header.Get("Content-Type"), tt.wantStatus, tt.wantCode)
			}
			if !strings.Contains(got.Message, "pub/sub API only") || !strings.Contains(got.Message, tt.wantIn) {
				t.Errorf("message %q, want one saying pub/sub only and %q", got.Message, tt.wantIn)
			}
		})
	}
}

func TestUnsupportedGRPC(t *testing.T) {
	e := startEnv(t)
	c := e.protoClient(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	calls := map[string]func() error{
		"state management": func() error {
			_, err := c.GetState(ctx, &runtimev1pb.GetStateRequest{StoreName: "s", Key: "k"})
			return err
		},
		"service invocation": func() error {
			_, err := c.InvokeService(ctx, &runtimev1pb.InvokeServiceRequest{Id: "checkout"})
			return err
		},
		"bindings": func() error { _, err := c.InvokeBinding(ctx, &runtimev1pb.InvokeBindingRequest{Name: "b"}); return err },
		"secrets":  func() error { _, err := c.GetSecret(ctx, &runtimev1pb.GetSecretRequest{StoreName: "v"}); return err },
		"actors": func() error {
			_, err := c.InvokeActor(ctx, &runtimev1pb.InvokeActorRequest{ActorType: "Cart", ActorId: "1"})
			return err
		},
		"configuration": func() error {
			_, err := c.GetConfiguration(ctx, &runtimev1pb.GetConfigurationRequest{StoreName: "c"})
			return err
		},
		"workflow": func() error {
			_, err := c.StartWorkflowBeta1(ctx, &runtimev1pb.StartWorkflowRequest{WorkflowComponent: "dapr"})
			return err
		},
	}
	for block, call := range calls {
		t.Run(block, func(t *testing.T) {
			st, _ := status.FromError(call())
			if st.Code() != codes.Unimplemented || !strings.Contains(st.Message(), "pub/sub API only") ||
				!strings.Contains(st.Message(), "the "+block+" API") {
				t.Errorf("got %s %q, want Unimplemented naming pub/sub only and %s", st.Code(), st.Message(), block)
			}
		})
	}
	t.Run("unknown service", func(t *testing.T) {
		_, err := grpc_health_v1.NewHealthClient(e.conn(t)).Check(ctx, &grpc_health_v1.HealthCheckRequest{})
		if st, _ := status.FromError(err); st.Code() != codes.Unimplemented || !strings.Contains(st.Message(), "pub/sub API only") {
			t.Errorf("got %s %q, want Unimplemented naming pub/sub only", st.Code(), st.Message())
		}
	})
}
