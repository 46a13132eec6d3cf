package gateway

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"testing"
	"time"
)

// serveWith runs NewServer(h, t) on a free port until the test ends.
func serveWith(t *testing.T, h http.Handler, to Timeouts) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := NewServer(h, to, nil)
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { srv.Close() })
	return l.Addr().String()
}

// closedWithin reports whether the server closes conn within d.
func closedWithin(t *testing.T, conn net.Conn, d time.Duration) bool {
	t.Helper()
	_ = conn.SetReadDeadline(time.Now().Add(d))
	_, err := io.Copy(io.Discard, conn)
	return err == nil // EOF: the server closed it; a timeout: it did not
}

// TestServerTimeouts: stalled headers, a stalled chunked body and an idle
// kept-alive connection are each closed by the server.
func TestServerTimeouts(t *testing.T) {
	read := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusNoContent)
	})
	addr := serveWith(t, read, Timeouts{Header: 200 * time.Millisecond, Read: 300 * time.Millisecond, Idle: 300 * time.Millisecond})
	tests := []struct {
		name string
		send string
	}{
		{name: "stalled headers", send: "POST /checkout HTTP/1.1\r\nHost: x\r\n"},
		{name: "stalled chunked body", send: "POST /checkout HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conn, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			if _, err := io.WriteString(conn, tt.send); err != nil {
				t.Fatal(err)
			}
			if !closedWithin(t, conn, 3*time.Second) {
				t.Error("got the connection held for 3s, want it closed")
			}
		})
	}
	t.Run("idle keep-alive", func(t *testing.T) {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		if _, err := io.WriteString(conn, "GET / HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
			t.Fatal(err)
		}
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil || resp.StatusCode != http.StatusNoContent || resp.Close {
			t.Fatalf("got %v %v, want 204 kept alive", resp, err)
		}
		if !closedWithin(t, conn, 3*time.Second) {
			t.Error("got the idle connection held for 3s, want it closed")
		}
	})
}

func TestServerDefaults(t *testing.T) {
	srv := NewServer(http.NotFoundHandler(), Timeouts{}, nil)
	d := DefaultTimeouts()
	got := []time.Duration{srv.ReadHeaderTimeout, srv.ReadTimeout, srv.IdleTimeout}
	want := []time.Duration{d.Header, d.Read, d.Idle}
	for i := range got {
		if got[i] != want[i] || got[i] == 0 {
			t.Errorf("timeout %d: got %s, want %s", i, got[i], want[i])
		}
	}
	if srv.MaxHeaderBytes != maxHeaderBytes {
		t.Errorf("got MaxHeaderBytes %d, want %d", srv.MaxHeaderBytes, maxHeaderBytes)
	}
}
