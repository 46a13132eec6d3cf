package tracing

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
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
