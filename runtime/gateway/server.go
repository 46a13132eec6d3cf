package gateway

import (
	"log/slog"
	"net/http"
	"time"
)

// Timeouts bound how long a client may hold a connection of the gateway's
// server without getting on: sending its headers, its body, or a next
// request on a kept-alive connection.
type Timeouts struct {
	Header time.Duration // to send the request headers
	Read   time.Duration // to send the whole request, body included
	Idle   time.Duration // between requests on one connection
}

// DefaultTimeouts are the gateway server's timeouts unless set.
func DefaultTimeouts() Timeouts {
	return Timeouts{Header: 5 * time.Second, Read: 30 * time.Second, Idle: 30 * time.Second}
}

// maxHeaderBytes bounds a request's headers (net/http's default is 1 MiB).
const maxHeaderBytes = 64 << 10

// NewServer returns the HTTP server for h with timeouts t (zero fields take
// DefaultTimeouts'). No write timeout: a function may take its time to
// answer, and the delivery's own timeout bounds that.
func NewServer(h http.Handler, t Timeouts, log *slog.Logger) *http.Server {
	d := DefaultTimeouts()
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: or(t.Header, d.Header),
		ReadTimeout:       or(t.Read, d.Read),
		IdleTimeout:       or(t.Idle, d.Idle),
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelDebug),
	}
}

func or(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}
