package function

import (
	"context"
	"crypto/tls"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/connectivity"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
)

// apiTokenKey is the metadata key of the Dapr API token.
const apiTokenKey = "dapr-api-token"

// dialSidecar connects to the Dapr sidecar at addr (host:port, a gRPC
// target such as dns:///host:port, or http:// or https:// host:port) and
// waits until it answers, up to DAPR_CLIENT_TIMEOUT_SECONDS (default 5), as
// the Dapr SDK's own dial does.
//
// The connection adds token and the trace context of the call's context
// (checkout's span, trace.go) to each call's metadata. The Dapr Go SDK
// v1.11 sets the token by replacing the call's outgoing metadata, which
// drops any traceparent put there before: checkout's publishes would then
// start new traces instead of continuing the order's.
func dialSidecar(ctx context.Context, addr, token string) (*grpc.ClientConn, error) {
	target, creds := dialTarget(addr)
	conn, err := grpc.NewClient(target, grpc.WithTransportCredentials(creds),
		grpc.WithChainUnaryInterceptor(func(ctx context.Context, method string, req, reply any,
			cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
			ctx = withTraceMetadata(ctx)
			if token != "" {
				ctx = metadata.AppendToOutgoingContext(ctx, apiTokenKey, token)
			}
			return invoker(ctx, method, req, reply, cc, opts...)
		}))
	if err != nil {
		return nil, fmt.Errorf("dial Dapr sidecar at %s: %w", addr, err)
	}
	ctx, cancel := context.WithTimeout(ctx, clientTimeout())
	defer cancel()
	conn.Connect()
	for s := conn.GetState(); s != connectivity.Ready; s = conn.GetState() {
		if !conn.WaitForStateChange(ctx, s) {
			conn.Close()
			return nil, fmt.Errorf("dial Dapr sidecar at %s: %w (last state %s)", addr, ctx.Err(), s)
		}
	}
	return conn, nil
}

// withTraceMetadata sets the outgoing traceparent and tracestate to the
// span ctx carries, replacing those of the hop that called checkout.
func withTraceMetadata(ctx context.Context) context.Context {
	if !trace.SpanContextFromContext(ctx).IsValid() {
		return ctx
	}
	md, _ := metadata.FromOutgoingContext(ctx)
	md = md.Copy()
	delete(md, "tracestate")
	propagation.TraceContext{}.Inject(ctx, mdCarrier(md))
	return metadata.NewOutgoingContext(ctx, md)
}

// mdCarrier lets the W3C propagator write gRPC metadata.
type mdCarrier metadata.MD

func (c mdCarrier) Get(key string) string {
	if v := metadata.MD(c).Get(key); len(v) > 0 {
		return v[0]
	}
	return ""
}

func (c mdCarrier) Set(key, value string) { metadata.MD(c).Set(key, value) }

func (c mdCarrier) Keys() []string {
	keys := make([]string, 0, len(c))
	for k := range c {
		keys = append(keys, k)
	}
	return keys
}

// dialTarget turns a Dapr gRPC endpoint into a gRPC target and credentials.
func dialTarget(addr string) (string, credentials.TransportCredentials) {
	if rest, ok := strings.CutPrefix(addr, "https://"); ok {
		return rest, credentials.NewTLS(&tls.Config{MinVersion: tls.VersionTLS12})
	}
	return strings.TrimPrefix(addr, "http://"), insecure.NewCredentials()
}

// clientTimeout is DAPR_CLIENT_TIMEOUT_SECONDS, as the Dapr SDK reads it.
func clientTimeout() time.Duration {
	if n, err := strconv.Atoi(os.Getenv("DAPR_CLIENT_TIMEOUT_SECONDS")); err == nil && n > 0 {
		return time.Duration(n) * time.Second
	}
	return 5 * time.Second
}
