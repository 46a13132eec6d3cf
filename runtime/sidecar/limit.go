package sidecar

import (
	"errors"
	"io"
	"net/http"
)

// errStreamTooLarge is dapr/kit streams.ErrStreamTooLarge: daprd answers an
// oversized HTTP publish body with ERR_PUBSUB_PUBLISH_MESSAGE and this text.
var errStreamTooLarge = errors.New("stream too large")

// limitBody mirrors daprd's MaxBodySizeMiddleware.
func (s *Sidecar) limitBody(next http.Handler) http.Handler {
	limit := int64(s.cfg.MaxBodyBytes)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = &limitReadCloser{rc: r.Body, n: limit}
		next.ServeHTTP(w, r)
	})
}

// limitReadCloser reads at most n bytes, then fails with errStreamTooLarge.
type limitReadCloser struct {
	rc io.ReadCloser
	n  int64
}

func (l *limitReadCloser) Read(p []byte) (int, error) {
	if l.n < 0 {
		return 0, errStreamTooLarge
	}
	if int64(len(p)) > l.n+1 {
		p = p[:l.n+1]
	}
	n, err := l.rc.Read(p)
	l.n -= int64(n)
	if l.n < 0 {
		return n + int(l.n), errStreamTooLarge
	}
	return n, err
}

func (l *limitReadCloser) Close() error { return l.rc.Close() }
