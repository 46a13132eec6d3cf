package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// fakeTarget resolves names from a map and records releases.
type fakeTarget struct {
	urls map[string]string
	err  error // returned for names in urls when set

	mu       sync.Mutex
	released []bool
}

func (f *fakeTarget) Acquire(_ context.Context, name string) (string, func(bool), error) {
	u, ok := f.urls[name]
	switch {
	case !ok:
		return "", nil, fmt.Errorf("%w %q", ErrUnknownFunction, name)
	case f.err != nil:
		return "", nil, f.err
	}
	return u, func(failed bool) {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.released = append(f.released, failed)
	}, nil
}

func (f *fakeTarget) releases() []bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]bool(nil), f.released...)
}

// echo is a function instance that answers with what it received.
func echo(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("X-Path", r.URL.Path)
		w.Header().Set("X-Query", r.URL.RawQuery)
		w.Header().Set("X-Got-Ce-Id", r.Header.Get("Ce-Id"))
		w.Header().Set("X-Got-Custom", r.Header.Get("X-Custom"))
		w.Header().Set("X-Got-Forwarded-For", r.Header.Get("X-Forwarded-For"))
		w.Header().Set("Ce-Type", "order.processed")
		w.Header().Set("Content-Type", r.Header.Get("Content-Type"))
		w.WriteHeader(http.StatusAccepted)
		w.Write(append([]byte("echo:"), body...))
	}))
	t.Cleanup(srv.Close)
	return srv
}

// do sends a request to h and returns the response and its body.
func do(t *testing.T, h http.Handler, method, path, body string, header http.Header) (*http.Response, string) {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	req, err := http.NewRequestWithContext(t.Context(), method, srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

func TestProxy(t *testing.T) {
	fn := echo(t)
	target := &fakeTarget{urls: map[string]string{"checkout": fn.URL}}
	h := New(Config{Target: target})
	tests := []struct {
		name, path, wantPath, wantQuery string
	}{
		{name: "function root", path: "/checkout", wantPath: "/"},
		{name: "sub-path", path: "/checkout/x", wantPath: "/x"},
		{name: "deep sub-path and query", path: "/checkout/orders/42?dry=1&v=a+b", wantPath: "/orders/42", wantQuery: "dry=1&v=a+b"},
		{name: "trailing slash", path: "/checkout/", wantPath: "/"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			header := http.Header{
				"Ce-Id": {"1"}, "Ce-Specversion": {"1.0"}, "Ce-Source": {"test"}, "Ce-Type": {"order.placed"},
				"Content-Type": {"application/json"}, "X-Custom": {"kept"},
			}
			resp, body := do(t, h, http.MethodPost, tt.path, `{"orderId":42}`, header)
			if resp.StatusCode != http.StatusAccepted {
				t.Fatalf("got status %d (%s), want 202 from the function", resp.StatusCode, body)
			}
			checks := []struct{ what, got, want string }{
				{"path", resp.Header.Get("X-Path"), tt.wantPath},
				{"query", resp.Header.Get("X-Query"), tt.wantQuery},
				{"Ce-Id sent", resp.Header.Get("X-Got-Ce-Id"), "1"},
				{"X-Custom sent", resp.Header.Get("X-Got-Custom"), "kept"},
				{"X-Forwarded-For sent", resp.Header.Get("X-Got-Forwarded-For"), "127.0.0.1"},
				{"Ce-Type returned", resp.Header.Get("Ce-Type"), "order.processed"},
				{"Content-Type returned", resp.Header.Get("Content-Type"), "application/json"},
				{"body", body, `echo:{"orderId":42}`},
			}
			for _, c := range checks {
				if c.got != c.want {
					t.Errorf("%s: got %q, want %q", c.what, c.got, c.want)
				}
			}
		})
	}
	if got := target.releases(); len(got) != len(tests) || got[0] {
		t.Errorf("got releases %v, want %d successful ones", got, len(tests))
	}
}

// errorBody decodes a gateway error answer.
func errorBody(t *testing.T, resp *http.Response, body string) string {
	t.Helper()
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("got Content-Type %q, want application/json", ct)
	}
	var e struct {
		Error string `json:"error"`
	}
	if err := json.Unmarshal([]byte(body), &e); err != nil || e.Error == "" {
		t.Fatalf("got body %q, want {\"error\": ...}", body)
	}
	return e.Error
}

func TestProxyErrors(t *testing.T) {
	down := httptest.NewServer(http.NotFoundHandler())
	down.Close() // a port nothing listens on any more
	failing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "boom", http.StatusInternalServerError)
	}))
	t.Cleanup(failing.Close)
	tests := []struct {
		name       string
		target     *fakeTarget
		path       string
		wantStatus int
		wantError  string // "" when the function's own answer comes back
		retryAfter bool
		released   []bool
	}{
		{
			name: "unknown function", target: &fakeTarget{}, path: "/nope",
			wantStatus: http.StatusNotFound, wantError: "no function named nope",
		},
		{
			name:   "not available",
			target: &fakeTarget{urls: map[string]string{"checkout": "x"}, err: errors.New("still building")},
			path:   "/checkout", wantStatus: http.StatusServiceUnavailable, wantError: "still building", retryAfter: true,
		},
		{
			name: "bad address", target: &fakeTarget{urls: map[string]string{"checkout": "http://[::1"}},
			path: "/checkout", wantStatus: http.StatusBadGateway, wantError: "bad address", released: []bool{true},
		},
		{
			name: "function down", target: &fakeTarget{urls: map[string]string{"checkout": down.URL}},
			path: "/checkout/x", wantStatus: http.StatusBadGateway, wantError: "checkout did not answer",
			retryAfter: true, released: []bool{true},
		},
		{
			name: "function fails", target: &fakeTarget{urls: map[string]string{"checkout": failing.URL}},
			path: "/checkout", wantStatus: http.StatusInternalServerError, released: []bool{true},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := do(t, New(Config{Target: tt.target}), http.MethodPost, tt.path, "{}",
				http.Header{"Content-Type": {"application/cloudevents+json"}})
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("got status %d (%s), want %d", resp.StatusCode, body, tt.wantStatus)
			}
			if tt.wantError != "" {
				if got := errorBody(t, resp, body); !strings.Contains(got, tt.wantError) {
					t.Errorf("got error %q, want it to contain %q", got, tt.wantError)
				}
			}
			if got := resp.Header.Get("Retry-After") != ""; got != tt.retryAfter {
				t.Errorf("got Retry-After %q, want set: %v", resp.Header.Get("Retry-After"), tt.retryAfter)
			}
			if got := tt.target.releases(); len(got) != len(tt.released) || len(got) > 0 && got[0] != tt.released[0] {
				t.Errorf("got releases %v, want %v", got, tt.released)
			}
		})
	}
}

// TestAPIToken: with a token set, invoking a function needs it (the token
// does not reach the function); listing does not.
func TestAPIToken(t *testing.T) {
	fn := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Got-Token", r.Header.Get("dapr-api-token"))
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(fn.Close)
	h := New(Config{Target: &fakeTarget{urls: map[string]string{"checkout": fn.URL}}, APIToken: "s3cret"})
	tests := []struct {
		name, method, path, token string
		want                      int
	}{
		{name: "no token", method: http.MethodPost, path: "/checkout", want: http.StatusUnauthorized},
		{name: "wrong token", method: http.MethodPost, path: "/checkout/x", token: "guess", want: http.StatusUnauthorized},
		{name: "any method", method: http.MethodGet, path: "/checkout", want: http.StatusUnauthorized},
		{name: "token", method: http.MethodPost, path: "/checkout", token: "s3cret", want: http.StatusNoContent},
		{name: "listing", method: http.MethodGet, path: "/", want: http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			header := http.Header{}
			if tt.token != "" {
				header.Set("dapr-api-token", tt.token)
			}
			resp, body := do(t, h, tt.method, tt.path, "{}", header)
			if resp.StatusCode != tt.want {
				t.Fatalf("got %d %s, want %d", resp.StatusCode, body, tt.want)
			}
			if tt.want == http.StatusUnauthorized && !strings.Contains(errorBody(t, resp, body), "api token") {
				t.Errorf("got %q, want a reason naming the api token", body)
			}
			if got := resp.Header.Get("X-Got-Token"); got != "" {
				t.Errorf("the function got the token %q, want it removed", got)
			}
		})
	}
}
