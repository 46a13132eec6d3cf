package tracing

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

func TestMetrics(t *testing.T) {
	m := NewMetrics()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(m))
	defer tp.Shutdown(context.Background())
	tr := tp.Tracer("test")
	_, sp := tr.Start(context.Background(), "deliver order-processor", trace.WithAttributes(
		attribute.String(HopKey, HopFunction), FunctionKey.String("order-processor")))
	sp.End()
	_, sp = tr.Start(context.Background(), "invoke checkout", trace.WithAttributes(attribute.String(HopKey, HopFunction)))
	sp.End()
	_, sp = tr.Start(context.Background(), "no hop")
	sp.End()
	if n := testutil.CollectAndCount(m, "funcd_hop_duration_seconds"); n != 2 {
		t.Errorf("got %d series, want 2 (order-processor, checkout)", n)
	}
	for i := range maxTargets + 10 {
		_, sp := tr.Start(context.Background(), "publish", trace.WithAttributes(
			attribute.String(HopKey, HopPublish), attribute.String("messaging.destination.name", strconv.Itoa(i))))
		sp.End()
	}
	if n := testutil.CollectAndCount(m, "funcd_hop_duration_seconds"); n != maxTargets+1 {
		t.Errorf("got %d series, want %d (the bound, and _other)", n, maxTargets+1)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(m)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var exemplar bool
	for _, mf := range mfs {
		for _, metric := range mf.GetMetric() {
			for _, b := range metric.GetHistogram().GetBucket() {
				if e := b.GetExemplar(); e != nil && strings.Contains(e.String(), "trace_id") {
					exemplar = true
				}
			}
		}
	}
	if !exemplar {
		t.Error("no bucket has a trace_id exemplar")
	}
}

// TestMetricsExemplarEvery: a bucket takes a new exemplar at most once per
// exemplarEvery, every observation still counts.
func TestMetricsExemplarEvery(t *testing.T) {
	m := NewMetrics()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(m))
	defer tp.Shutdown(context.Background())
	tr := tp.Tracer("test")
	t0 := time.Now()
	span := func(end time.Duration) string {
		start := t0.Add(end - time.Millisecond) // the .001 bucket
		_, sp := tr.Start(context.Background(), "publish", trace.WithTimestamp(start), trace.WithAttributes(
			attribute.String(HopKey, HopPublish), attribute.String("messaging.destination.name", "orders")))
		sp.End(trace.WithTimestamp(t0.Add(end)))
		return sp.SpanContext().TraceID().String()
	}
	first := span(0)
	span(exemplarEvery / 2)
	if got := exemplarOf(t, m); got != first {
		t.Errorf("exemplar %s, want %s: the second span came within exemplarEvery", got, first)
	}
	third := span(exemplarEvery + time.Millisecond)
	if got := exemplarOf(t, m); got != third {
		t.Errorf("exemplar %s, want %s: the third span came after exemplarEvery", got, third)
	}
	if n := testutil.CollectAndCount(m); n != 1 {
		t.Fatalf("got %d series, want 1", n)
	}
	if got := histogramCount(t, m); got != 3 {
		t.Errorf("histogram counts %d, want 3 observations", got)
	}
}

// exemplarOf is the trace id of the one exemplar m's histograms hold.
func exemplarOf(t *testing.T, m *Metrics) string {
	t.Helper()
	var ids []string
	for _, b := range gather(t, m).GetHistogram().GetBucket() {
		for _, l := range b.GetExemplar().GetLabel() {
			ids = append(ids, l.GetValue())
		}
	}
	if len(ids) != 1 {
		t.Fatalf("got exemplars %v, want one", ids)
	}
	return ids[0]
}

func histogramCount(t *testing.T, m *Metrics) uint64 {
	t.Helper()
	return gather(t, m).GetHistogram().GetSampleCount()
}

// gather returns m's only metric.
func gather(t *testing.T, m *Metrics) *dto.Metric {
	t.Helper()
	reg := prometheus.NewRegistry()
	reg.MustRegister(m)
	mfs, err := reg.Gather()
	if err != nil || len(mfs) != 1 || len(mfs[0].GetMetric()) != 1 {
		t.Fatalf("gather: %v, %d families", err, len(mfs))
	}
	return mfs[0].GetMetric()[0]
}
