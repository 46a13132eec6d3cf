package apps

import (
	"context"
	"net/http"
	"sync"
	"time"

	runtimev1pb "github.com/dapr/dapr/pkg/proto/runtime/v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/types/known/emptypb"

	"github.com/funcd/funcd/runtime/multiapp"
)

// watchHealth probes the app as daprd does with enableAppHealthCheck:
// after Threshold failed probes in a row its subscriptions stop (the
// broker keeps their messages), and they start again at the first
// successful probe. The returned func ends the probes and waits for them.
func (a *Apps) watchHealth(ap *app) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		hc := ap.spec.HealthCheck
		t := time.NewTicker(hc.Interval)
		defer t.Stop()
		fails, healthy := 0, true
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			if a.healthy(ctx, ap, hc.Timeout) {
				fails = 0
				if !healthy {
					healthy = true
					if err := ap.startBinding(ctx); err != nil {
						a.log.Error("app healthy again, but its subscriptions did not start", "app", ap.spec.ID, "error", err)
						healthy = false
						continue
					}
					a.log.Info("app healthy again: its subscriptions start", "app", ap.spec.ID)
				}
				continue
			}
			if fails++; healthy && fails >= hc.Threshold {
				healthy = false
				a.log.Warn("app unhealthy: its subscriptions stop until it is healthy again", "app", ap.spec.ID,
					"path", ap.spec.HealthCheckPath, "failures", fails)
				stopCtx, done := context.WithTimeout(ctx, 10*time.Second)
				_ = ap.stopBinding(stopCtx)
				done()
			}
		}
	})
	return func() { cancel(); wg.Wait() }
}

// healthy makes one probe: GET of the health check path (2xx), or for a
// gRPC app the AppCallbackHealthCheck service.
func (a *Apps) healthy(ctx context.Context, ap *app, timeout time.Duration) bool {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if ap.spec.Protocol == multiapp.ProtocolGRPC && ap.conn != nil {
		ctx = metadata.AppendToOutgoingContext(ctx, "dapr-api-token", ap.appToken)
		_, err := runtimev1pb.NewAppCallbackHealthCheckClient(ap.conn).HealthCheck(ctx, &emptypb.Empty{})
		return err == nil
	}
	return a.getHealth(ctx, ap)
}

// getHealth reports whether a GET of the app's health check path, with its
// token, answers 2xx.
func (a *Apps) getHealth(ctx context.Context, ap *app) bool {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, ap.baseURL()+ap.spec.HealthCheckPath, nil)
	if err != nil {
		return false
	}
	req.Header.Set("dapr-api-token", ap.appToken)
	resp, err := a.client.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode >= 200 && resp.StatusCode <= 299
}
