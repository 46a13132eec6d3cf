package function

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/cloudevents/sdk-go/v2/binding"
	"github.com/cloudevents/sdk-go/v2/event"
	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"
	"knative.dev/func-go/cloudevents"
)

// BenchmarkCloudEventPath compares, on the same Handle and the same
// binary-mode CloudEvents from 8 concurrent clients, func-go's CloudEvent
// receiver (served the way funcd's scaffold serves it, with contexts that
// outlive the request) against a bare net/http handler that reads the
// CloudEvent headers itself, and one that decodes and validates the event
// with the SDK's HTTP binding. Compare ns/op side by side, e.g. with
// -count 5 and benchstat.
func BenchmarkCloudEventPath(b *testing.B) {
	f := newFunction(io.Discard)
	if err := f.Start(context.Background(), nil); err != nil {
		b.Fatal(err)
	}
	b.Run("net-http", func(b *testing.B) { benchmarkPath(b, bare(f)) })
	b.Run("net-http+sdk-decode", func(b *testing.B) { benchmarkPath(b, decoded(f)) })
	b.Run("func-go", func(b *testing.B) {
		h := cloudevents.New(f).Handler
		benchmarkPath(b, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			h.ServeHTTP(w, r.WithContext(context.WithoutCancel(r.Context())))
		}))
	})
}

// bare decodes a binary-mode CloudEvent by hand and calls Handle.
func bare(f *Function) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		e := event.New(r.Header.Get("Ce-Specversion"))
		e.SetID(r.Header.Get("Ce-Id"))
		e.SetSource(r.Header.Get("Ce-Source"))
		e.SetType(r.Header.Get("Ce-Type"))
		if err := e.SetData(r.Header.Get("Content-Type"), body); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if _, err := f.Handle(r.Context(), e); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
}

// decoded decodes and validates the CloudEvent with the CloudEvents SDK's
// HTTP binding, as a receiver must, without its client's hand-over to a
// receiving goroutine, and calls Handle.
func decoded(f *Function) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e, err := binding.ToEvent(r.Context(), cehttp.NewMessageFromHttpRequest(r))
		if err == nil {
			err = e.Validate()
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if _, err := f.Handle(r.Context(), *e); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
}

func benchmarkPath(b *testing.B, h http.Handler) {
	srv := httptest.NewServer(h)
	defer srv.Close()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	defer client.CloseIdleConnections()
	b.SetParallelism(4) // 8 clients on 2 cores
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req, err := http.NewRequest(http.MethodPost, srv.URL+"/", strings.NewReader(seedOrder))
			if err != nil {
				b.Error(err)
				return
			}
			for k, v := range binary("application/json") {
				req.Header.Set(k, v)
			}
			resp, err := client.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				b.Errorf("got %d, want 200", resp.StatusCode)
				return
			}
		}
	})
}
