package tracing

import (
	"context"
	"strings"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// HopKey names the hop a span measures, for the hop histograms: gateway,
// function, publish, topic or delivery.
const HopKey = "funcd.hop"

// Hops, the values of HopKey.
const (
	HopGateway  = "gateway"  // a request through the gateway
	HopFunction = "function" // one call to a function instance
	HopPublish  = "publish"  // a publish API call, until the broker stored it
	HopTopic    = "topic"    // from stored to taken by the binding
	HopDelivery = "delivery" // all attempts of one delivery and its outcome
)

// Metrics turns the spans of each hop into a latency histogram,
// funcd_hop_duration_seconds{hop,target}, each observation with its trace id
// as an exemplar (shown when the scraper asks for OpenMetrics). Only spans
// that are recorded are observed: below 100 % sampling the histograms are a
// sample too. It is an sdktrace.SpanProcessor and a prometheus.Collector.
type Metrics struct {
	hist *prometheus.HistogramVec

	mu      sync.Mutex
	targets map[string]bool // hop+target pairs seen, at most maxTargets
}

// maxTargets bounds the label pairs; later ones count as target "_other"
// (topic names come from callers of the publish API).
const maxTargets = 512

var (
	_ sdktrace.SpanProcessor = (*Metrics)(nil)
	_ prometheus.Collector   = (*Metrics)(nil)
)

// NewMetrics returns empty hop histograms.
func NewMetrics() *Metrics {
	return &Metrics{hist: prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "funcd_hop_duration_seconds",
		Help:    "Time spent per hop of an event's journey: gateway, function, publish, topic, delivery (with retries).",
		Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
	}, []string{"hop", "target"}), targets: map[string]bool{}}
}

// bounded returns target, or "_other" once maxTargets pairs are in use.
func (m *Metrics) bounded(hop, target string) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	key := hop + "\x00" + target
	if !m.targets[key] {
		if len(m.targets) >= maxTargets {
			return "_other"
		}
		m.targets[key] = true
	}
	return target
}

// OnEnd observes a span that names its hop.
func (m *Metrics) OnEnd(s sdktrace.ReadOnlySpan) {
	var hop, target string
	for _, kv := range s.Attributes() {
		switch kv.Key {
		case HopKey:
			hop = kv.Value.AsString()
		case FunctionKey, "messaging.destination.name":
			if target == "" || kv.Key == FunctionKey {
				target = kv.Value.AsString()
			}
		}
	}
	if hop == "" {
		return
	}
	if target == "" { // "invoke checkout"
		_, target, _ = strings.Cut(s.Name(), " ")
	}
	obs := m.hist.WithLabelValues(hop, m.bounded(hop, cut(target)))
	secs := s.EndTime().Sub(s.StartTime()).Seconds()
	if eo, ok := obs.(prometheus.ExemplarObserver); ok && s.SpanContext().IsSampled() {
		eo.ObserveWithExemplar(secs, prometheus.Labels{"trace_id": s.SpanContext().TraceID().String()})
		return
	}
	obs.Observe(secs)
}

// OnStart, Shutdown and ForceFlush do nothing.
func (m *Metrics) OnStart(context.Context, sdktrace.ReadWriteSpan) {}
func (m *Metrics) Shutdown(context.Context) error                  { return nil }
func (m *Metrics) ForceFlush(context.Context) error                { return nil }

// Describe and Collect make Metrics a prometheus.Collector.
func (m *Metrics) Describe(ch chan<- *prometheus.Desc) { m.hist.Describe(ch) }
func (m *Metrics) Collect(ch chan<- prometheus.Metric) { m.hist.Collect(ch) }
