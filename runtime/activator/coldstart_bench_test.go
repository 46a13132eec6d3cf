package activator_test

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/funcd/funcd/runtime/activator"
	"github.com/funcd/funcd/runtime/funcbuild"
	"github.com/funcd/funcd/runtime/runner"
)

// BenchmarkColdStart measures a function going from zero instances to its
// first answer: process start, func-go readiness, one binary CloudEvent
// answered. It uses the real runner and the echo function of funcbuild's
// tests (built once, outside the timing). It reports p50 and p99.
func BenchmarkColdStart(b *testing.B) {
	fn, err := funcbuild.Load(filepath.Join("..", "funcbuild", "testdata", "echo"))
	if err != nil {
		b.Fatal(err)
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		b.Fatal(err)
	}
	builder, err := funcbuild.New(funcbuild.Config{CacheDir: filepath.Join(cache, "funcd", "builds")}, nil)
	if err != nil {
		b.Fatal(err)
	}
	r, err := runner.New(runner.Config{
		Output:  io.Discard,
		Environ: append(os.Environ(), "RUNNER_TEST_HOST_VALUE=bench"), // read by the echo func.yaml
	}, builder, nil)
	if err != nil {
		b.Fatal(err)
	}
	if err := builder.Build(b.Context(), []funcbuild.Function{fn}); err != nil {
		b.Fatal(err)
	}
	a := activator.New(nil)
	start := func(ctx context.Context) (activator.Instance, error) { return r.Start(ctx, fn, nil) }
	if err := a.Add(fn.Name, start, activator.Options{Idle: time.Millisecond}); err != nil {
		b.Fatal(err)
	}
	if err := a.Start(b.Context()); err != nil {
		b.Fatal(err)
	}
	defer a.Stop(context.Background())
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	var took []time.Duration
	for b.Loop() {
		began := time.Now()
		url, release, err := a.Acquire(b.Context(), fn.Name, activator.Request)
		if err != nil {
			b.Fatal(err)
		}
		if err := invoke(client, url); err != nil {
			b.Fatal(err)
		}
		release(false)
		took = append(took, time.Since(began))
		b.StopTimer()
		waitZero(b, a)
		b.StartTimer()
	}
	slices.Sort(took)
	b.ReportMetric(float64(took[len(took)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(took[min(len(took)-1, len(took)*99/100)].Microseconds())/1000, "p99-ms")
}

func invoke(client *http.Client, url string) error {
	req, err := http.NewRequest(http.MethodPost, url+"/", strings.NewReader(`{"orderId":1}`))
	if err != nil {
		return err
	}
	for k, v := range map[string]string{"ce-specversion": "1.0", "ce-id": "1", "ce-source": "/bench", "ce-type": "bench", "Content-Type": "application/json"} {
		req.Header.Set(k, v)
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusOK {
		return &statusError{resp.StatusCode}
	}
	return nil
}

type statusError struct{ code int }

func (e *statusError) Error() string { return http.StatusText(e.code) }

func waitZero(b *testing.B, a *activator.Activator) {
	deadline := time.Now().Add(10 * time.Second)
	for a.Status()[0].State != "zero" {
		if time.Now().After(deadline) {
			b.Fatal("instance did not scale to zero")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
