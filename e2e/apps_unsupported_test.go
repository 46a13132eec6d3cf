package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	runtimev1pb "github.com/dapr/dapr/pkg/proto/runtime/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/funcd/funcd/runtime/multiapp"
)

// apiAnswer is a Dapr API's answer to one call: status, and the error body
// when it is Dapr's JSON error shape.
type apiAnswer struct {
	status    int
	errorCode string
	message   string
	json      bool
}

func callDaprAPI(t *testing.T, baseURL, token, method, path string) apiAnswer {
	t.Helper()
	req, _ := http.NewRequest(method, baseURL+path, strings.NewReader(`[{"key":"k","value":"v"}]`))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("dapr-api-token", token)
	}
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v (want an answer at once)", method, path, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var e struct{ ErrorCode, Message string }
	ok := json.Unmarshal(body, &e) == nil && e.ErrorCode != ""
	return apiAnswer{status: resp.StatusCode, errorCode: e.ErrorCode, message: e.Message, json: ok}
}

// TestDaprAppUnsupportedAPIs calls the Dapr APIs funcd does not serve, on
// an app's Dapr API under funcd and on the real daprd 1.16: funcd answers
// at once in Dapr's error shape, naming pub/sub as what it serves, and a
// path that is no Dapr API as daprd does.
func TestDaprAppUnsupportedAPIs(t *testing.T) {
	const token = "unsupported-token"
	dir := t.TempDir()
	httpPort, grpcPort := freePort(t), freePort(t)
	writeFile(t, filepath.Join(dir, multiapp.FileName), fmt.Sprintf(`version: 1
apps:
  - appID: caller
    appDirPath: .
    daprHTTPPort: %d
    daprGRPCPort: %d
`, httpPort, grpcPort))
	startFuncd(t, "", t.TempDir(), nil, "--dir", dir, "--api-token", token)
	d := startDaprd(t, daprdOptions{appID: "caller", resources: writeResources(t, map[string]string{})})

	blocks := []struct{ method, path, block string }{
		{"POST", "/v1.0/state/statestore", "state management"},
		{"GET", "/v1.0/state/statestore/k", "state management"},
		{"POST", "/v1.0/invoke/other/method/orders", "service invocation"},
		{"POST", "/v1.0/bindings/cron", "bindings"},
		{"GET", "/v1.0/secrets/vault/k", "secrets"},
		{"POST", "/v1.0/actors/Cart/1/method/add", "actors"},
		{"GET", "/v1.0/configuration/store?key=k", "configuration"},
	}
	for _, b := range blocks {
		f := callDaprAPI(t, "http://"+addr(httpPort), token, b.method, b.path)
		dd := callDaprAPI(t, d.httpURL, "", b.method, b.path)
		t.Logf("%-4s %-36s funcd: %d %s | daprd: %d %s %q", b.method, b.path, f.status, f.errorCode, dd.status, dd.errorCode, dd.message)
		if f.status != http.StatusNotImplemented || f.errorCode != "ERR_API_NOT_SUPPORTED" ||
			!strings.Contains(f.message, "pub/sub API only") || !strings.Contains(f.message, "the "+b.block+" API") {
			t.Errorf("%s %s: funcd answered %+v, want 501 ERR_API_NOT_SUPPORTED naming pub/sub and %s", b.method, b.path, f, b.block)
		}
		if !dd.json {
			t.Errorf("%s %s: daprd answered %d without Dapr's error shape", b.method, b.path, dd.status)
		}
	}
	for _, p := range []struct{ method, path string }{{"GET", "/v1.0/nope"}, {"GET", "/v1.0/publish/orderpubsub/orders"}, {"GET", "/hello"}} {
		f := callDaprAPI(t, "http://"+addr(httpPort), token, p.method, p.path)
		dd := callDaprAPI(t, d.httpURL, "", p.method, p.path)
		t.Logf("%-4s %-36s funcd: %d %s | daprd: %d %s %q", p.method, p.path, f.status, f.errorCode, dd.status, dd.errorCode, dd.message)
		if f.status != dd.status || f.errorCode != dd.errorCode || !strings.Contains(f.message, "pub/sub API only") {
			t.Errorf("%s %s: funcd %+v, daprd %+v: want daprd's status and errorCode, and a message naming pub/sub", p.method, p.path, f, dd)
		}
	}
	compareGRPCUnsupported(t, addr(grpcPort), token, d.grpcAddr)
}

// compareGRPCUnsupported calls GetState and InvokeService over gRPC on
// funcd (want Unimplemented naming pub/sub) and daprd (logged).
func compareGRPCUnsupported(t *testing.T, funcdAddr, token, daprdAddr string) {
	t.Helper()
	call := func(target, tok string, rpc func(context.Context, runtimev1pb.DaprClient) error) *status.Status {
		conn, err := grpc.NewClient(target, grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if tok != "" {
			ctx = metadata.AppendToOutgoingContext(ctx, "dapr-api-token", tok)
		}
		st, _ := status.FromError(rpc(ctx, runtimev1pb.NewDaprClient(conn)))
		return st
	}
	rpcs := map[string]func(context.Context, runtimev1pb.DaprClient) error{
		"state management": func(ctx context.Context, c runtimev1pb.DaprClient) error {
			_, err := c.GetState(ctx, &runtimev1pb.GetStateRequest{StoreName: "statestore", Key: "k"})
			return err
		},
		"service invocation": func(ctx context.Context, c runtimev1pb.DaprClient) error {
			_, err := c.InvokeService(ctx, &runtimev1pb.InvokeServiceRequest{Id: "other", Message: nil})
			return err
		},
	}
	for block, rpc := range rpcs {
		f, dd := call(funcdAddr, token, rpc), call(daprdAddr, "", rpc)
		t.Logf("gRPC %-20s funcd: %s %q | daprd: %s %q", block, f.Code(), f.Message(), dd.Code(), dd.Message())
		if f.Code().String() != "Unimplemented" || !strings.Contains(f.Message(), "pub/sub API only") || !strings.Contains(f.Message(), block) {
			t.Errorf("gRPC %s: funcd %s %q, want Unimplemented naming pub/sub and %s", block, f.Code(), f.Message(), block)
		}
	}
}
