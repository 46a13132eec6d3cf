package gateway

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestBodyLimits: a body past the limit gets 413 whether its length is
// declared or not, on every route that takes one.
func TestBodyLimits(t *testing.T) {
	fn := echo(t)
	publish := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := io.ReadAll(r.Body); err != nil { // as runtime/sidecar answers
			var tooLarge *http.MaxBytesError
			if errors.As(err, &tooLarge) {
				writeError(w, http.StatusRequestEntityTooLarge, "message larger than 1024 bytes")
				return
			}
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	h := New(Config{
		Target:      &fakeTarget{urls: map[string]string{"order-processor": fn.URL, "checkout": fn.URL}},
		CloudEvents: func(name string) bool { return name == "order-processor" },
		Publish:     publish, MaxBodyBytes: 1024,
	})
	big := `{"specversion":"1.0","id":"1","source":"s","type":"t","data":"` + strings.Repeat("x", 2048) + `"}`
	binary := http.Header{"Ce-Id": {"1"}, "Ce-Specversion": {"1.0"}, "Ce-Source": {"s"}, "Ce-Type": {"t"}}
	tests := []struct {
		name, path, contentType string
		header                  http.Header
	}{
		{name: "binary event", path: "/order-processor", header: binary},
		{name: "structured event", path: "/order-processor", contentType: "application/cloudevents+json"},
		{name: "batch", path: "/order-processor", contentType: "application/cloudevents-batch+json"},
		{name: "plain HTTP function", path: "/checkout", contentType: "application/json"},
		{name: "publish API", path: "/v1.0/publish/orderpubsub/orders", contentType: "application/json"},
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	for _, tt := range tests {
		for _, chunked := range []bool{false, true} {
			name := tt.name
			if chunked {
				name += ", chunked"
			}
			t.Run(name, func(t *testing.T) {
				var body io.Reader = strings.NewReader(big)
				if chunked {
					body = io.MultiReader(body) // no length: sent chunked
				}
				req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, srv.URL+tt.path, body)
				for k, v := range tt.header {
					req.Header[k] = v
				}
				if tt.contentType != "" {
					req.Header.Set("Content-Type", tt.contentType)
				}
				resp, err := srv.Client().Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				got, _ := io.ReadAll(resp.Body)
				if resp.StatusCode != http.StatusRequestEntityTooLarge {
					t.Fatalf("got %d %s, want 413", resp.StatusCode, got)
				}
				if e := errorBody(t, resp, string(got)); !strings.Contains(e, "1024 bytes") {
					t.Errorf("got error %q, want it to name the limit", e)
				}
			})
		}
	}
}

// TestBodyMemory: bodies read into memory are bounded all together; the
// request that would pass the bound gets 503 with Retry-After, and OnIdle
// runs once they are all answered.
func TestBodyMemory(t *testing.T) {
	entered, unblock := make(chan struct{}, 4), make(chan struct{})
	publish := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.ReadAll(r.Body)
		entered <- struct{}{}
		<-unblock
		w.WriteHeader(http.StatusNoContent)
	})
	idle := make(chan struct{}, 1)
	h := New(Config{Target: &fakeTarget{}, Publish: publish, MaxBodyBytes: 1000, BodyMemory: 2500,
		OnIdle: func() { idle <- struct{}{} }})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	post := func() (*http.Response, string) {
		resp, err := srv.Client().Post(srv.URL+"/v1.0/publish/orderpubsub/orders", "application/json", strings.NewReader(strings.Repeat("x", 1000)))
		if err != nil {
			t.Error(err)
			return nil, ""
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			if resp, body := post(); resp != nil && resp.StatusCode != http.StatusNoContent {
				t.Errorf("got %d %s, want 204", resp.StatusCode, body)
			}
		})
	}
	<-entered
	<-entered
	resp, body := post()
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Errorf("third body at once: got %d (Retry-After %q), want 503 with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	if e := errorBody(t, resp, body); !strings.Contains(e, "busy") {
		t.Errorf("got error %q, want it to say busy", e)
	}
	close(unblock)
	wg.Wait()
	select {
	case <-idle:
	case <-time.After(5 * time.Second):
		t.Error("OnIdle did not run after the burst")
	}
	if resp, body := post(); resp.StatusCode != http.StatusNoContent {
		t.Errorf("after the burst: got %d %s, want 204", resp.StatusCode, body)
	}
}

// TestErrorsHaveAReason: a function's error answer without a body reaches
// the caller with one.
func TestErrorsHaveAReason(t *testing.T) {
	fn := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/empty":
			w.WriteHeader(http.StatusInternalServerError)
		case "/said":
			http.Error(w, "out of stock", http.StatusConflict)
		default:
			w.WriteHeader(http.StatusNoContent)
		}
	}))
	t.Cleanup(fn.Close)
	h := New(Config{Target: &fakeTarget{urls: map[string]string{"checkout": fn.URL}}})
	resp, body := do(t, h, http.MethodPost, "/checkout/empty", "{}", nil)
	if e := errorBody(t, resp, body); resp.StatusCode != 500 || e != "function checkout answered 500 Internal Server Error without a reason" {
		t.Errorf("empty 500: got %d %q", resp.StatusCode, e)
	}
	if resp, body := do(t, h, http.MethodPost, "/checkout/said", "{}", nil); resp.StatusCode != 409 || body != "out of stock\n" {
		t.Errorf("409 with a reason: got %d %q, want the function's own", resp.StatusCode, body)
	}
	if resp, body := do(t, h, http.MethodPost, "/checkout/ok", "{}", nil); resp.StatusCode != 204 || body != "" {
		t.Errorf("204: got %d %q, want it untouched", resp.StatusCode, body)
	}
}
