package subscriptions

import (
	"context"
	"net"
	"net/http"
	"sync"
	"testing"
)

// pipeServer serves h over an in-memory network (net.Pipe) and returns a
// client that reaches it and the URL to give that client. Tests under
// testing/synctest use it instead of httptest: a bubble's fake clock only
// advances while every goroutine in it waits on the bubble, and one
// blocked on a socket never does. Everything is closed at cleanup.
func pipeServer(t *testing.T, h http.Handler) (*http.Client, string) {
	t.Helper()
	l := &pipeListener{conns: make(chan net.Conn), done: make(chan struct{})}
	srv := &http.Server{Handler: h}
	served := make(chan struct{})
	go func() { defer close(served); _ = srv.Serve(l) }()
	tr := &http.Transport{DialContext: l.dial}
	t.Cleanup(func() {
		tr.CloseIdleConnections()
		_ = srv.Close()
		<-served
	})
	return &http.Client{Transport: tr}, "http://function.test"
}

// pipeListener accepts the server ends of the pipes dial makes.
type pipeListener struct {
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once
}

func (l *pipeListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *pipeListener) Close() error {
	l.once.Do(func() { close(l.done) })
	return nil
}

func (l *pipeListener) Addr() net.Addr { return pipeAddr{} }

func (l *pipeListener) dial(ctx context.Context, _, _ string) (net.Conn, error) {
	client, server := net.Pipe()
	select {
	case l.conns <- server:
		return client, nil
	case <-l.done:
		client.Close()
		return nil, net.ErrClosed
	case <-ctx.Done():
		client.Close()
		return nil, ctx.Err()
	}
}

type pipeAddr struct{}

func (pipeAddr) Network() string { return "pipe" }
func (pipeAddr) String() string  { return "pipe" }
