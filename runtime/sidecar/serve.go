package sidecar

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"golang.org/x/sync/errgroup"
	"google.golang.org/grpc"
)

// Timeouts of the HTTP API's server: a client may take readHeaderTimeout
// to send its headers and readTimeout for the whole request; a kept-alive
// connection is closed after idleTimeout without a request. gRPC
// connections without a call are closed after idleTimeout too.
const (
	readHeaderTimeout = 10 * time.Second
	readTimeout       = 30 * time.Second
	idleTimeout       = 60 * time.Second
	maxHeaderBytes    = 64 << 10
)

// Serve serves the gRPC API on grpcLis and the HTTP API on httpLis (either
// may be nil, not both) until ctx is done or a server fails, then stops both
// gracefully within the shutdown timeout. It closes the listeners and returns
// nil after a stop caused by ctx.
func (s *Sidecar) Serve(ctx context.Context, grpcLis, httpLis net.Listener) error {
	if grpcLis == nil && httpLis == nil {
		return errors.New("sidecar: no listener")
	}
	gs := s.NewGRPCServer()
	hs := &http.Server{
		Handler:           s.HTTPHandler(),
		ReadHeaderTimeout: min(readHeaderTimeout, s.cfg.ReadTimeout),
		ReadTimeout:       s.cfg.ReadTimeout,
		IdleTimeout:       s.cfg.IdleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
	}
	g, gctx := errgroup.WithContext(ctx)
	if grpcLis != nil {
		s.log.Info("dapr grpc api listening", "addr", grpcLis.Addr().String())
		g.Go(func() error { return serveErr("grpc", gs.Serve(grpcLis)) })
	}
	if httpLis != nil {
		s.log.Info("dapr http api listening", "addr", httpLis.Addr().String())
		g.Go(func() error { return serveErr("http", hs.Serve(httpLis)) })
	}
	g.Go(func() error {
		<-gctx.Done()
		return s.shutdown(gs, hs)
	})
	return g.Wait()
}

func serveErr(api string, err error) error {
	if err == nil || errors.Is(err, http.ErrServerClosed) || errors.Is(err, grpc.ErrServerStopped) {
		return nil
	}
	return fmt.Errorf("serve %s api: %w", api, err)
}

// shutdown stops intake on both servers, lets in-flight calls finish within
// the shutdown timeout, then cuts what is left.
func (s *Sidecar) shutdown(gs *grpc.Server, hs *http.Server) error {
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
	defer cancel()
	stopped := make(chan struct{})
	go func() {
		gs.GracefulStop()
		close(stopped)
	}()
	var errs []error
	if err := hs.Shutdown(ctx); err != nil {
		errs = append(errs, fmt.Errorf("shutdown http api: %w", err), hs.Close())
	}
	select {
	case <-stopped:
	case <-ctx.Done():
		gs.Stop()
		<-stopped
		errs = append(errs, fmt.Errorf("shutdown grpc api: %w", ctx.Err()))
	}
	return errors.Join(errs...)
}
