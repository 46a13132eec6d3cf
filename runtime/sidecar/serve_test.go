package sidecar

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"golang.org/x/net/http2"
)

// closedWithin reports whether the server closes conn within d.
func closedWithin(conn net.Conn, d time.Duration) bool {
	_ = conn.SetReadDeadline(time.Now().Add(d))
	_, err := io.Copy(io.Discard, conn)
	return err == nil // EOF: the server closed it; a timeout: it did not
}

// TestServeTimeouts: a stalled body, an idle kept-alive HTTP connection
// and an idle gRPC connection are closed by the server.
func TestServeTimeouts(t *testing.T) {
	e := startEnv(t, WithTimeouts(300*time.Millisecond, 300*time.Millisecond))
	httpAddr := e.httpURL[len("http://"):]
	dial := func(addr string) net.Conn {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close() })
		return conn
	}
	t.Run("stalled chunked body", func(t *testing.T) {
		conn := dial(httpAddr)
		_, _ = io.WriteString(conn, "POST /v1.0/publish/orderpubsub/orders HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab")
		if !closedWithin(conn, 3*time.Second) {
			t.Error("got the connection held for 3s, want it closed")
		}
	})
	t.Run("idle HTTP keep-alive", func(t *testing.T) {
		conn := dial(httpAddr)
		_, _ = io.WriteString(conn, "GET /v1.0/healthz HTTP/1.1\r\nHost: x\r\n\r\n")
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil || resp.StatusCode != http.StatusNoContent || resp.Close {
			t.Fatalf("got %v %v, want 204 kept alive", resp, err)
		}
		if !closedWithin(conn, 3*time.Second) {
			t.Error("got the idle connection held for 3s, want it closed")
		}
	})
	t.Run("idle gRPC connection", func(t *testing.T) {
		conn := dial(e.grpcAddr)
		_, _ = io.WriteString(conn, http2.ClientPreface)
		fr := http2.NewFramer(conn, conn)
		_ = fr.WriteSettings()
		// The server says GOAWAY, then closes, once the connection idled.
		deadline := time.Now().Add(3 * time.Second)
		_ = conn.SetReadDeadline(deadline)
		for {
			f, err := fr.ReadFrame()
			if err != nil {
				t.Fatalf("got %v before a GOAWAY, want the idle connection closed within 3s", err)
			}
			if _, ok := f.(*http2.GoAwayFrame); ok {
				return
			}
		}
	})
}
