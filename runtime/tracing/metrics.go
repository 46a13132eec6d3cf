package tracing

import (
	"context"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

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
// funcd_hop_duration_seconds{hop,target}, observations with their trace id
// as an exemplar (shown when the scraper asks for OpenMetrics): each bucket
// takes a sampled span's trace id at most once per exemplarEvery, as a
// bucket shows only its latest exemplar anyway. Only spans that are
// recorded are observed: below 100 % sampling the histograms are a sample
// too. It is an sdktrace.SpanProcessor and a prometheus.Collector.
type Metrics struct {
	hist *prometheus.HistogramVec

	series sync.Map // hopTarget → *series
	mu     sync.Mutex
	named  int                // series with a target of their own, at most maxTargets
	other  map[string]*series // per hop: the series of targets beyond maxTargets
}

// hopBuckets are the histogram's upper bounds, in seconds.
var hopBuckets = [...]float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}

// exemplarEvery is how often a bucket of one series takes a new exemplar.
const exemplarEvery = time.Second

type hopTarget struct{ hop, target string }

// series is one hop and target's histogram.
type series struct {
	obs prometheus.Observer
	// exemplar is when each bucket (and +Inf, last) last took an
	// exemplar, in Unix nanoseconds.
	exemplar [len(hopBuckets) + 1]atomic.Int64
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
		Buckets: hopBuckets[:],
	}, []string{"hop", "target"}), other: map[string]*series{}}
}

// seriesOf returns the series of hop and target, or of hop and "_other"
// once maxTargets pairs are in use.
func (m *Metrics) seriesOf(hop, target string) *series {
	key := hopTarget{hop, target}
	if s, ok := m.series.Load(key); ok {
		return s.(*series)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if s, ok := m.series.Load(key); ok {
		return s.(*series)
	}
	if m.named >= maxTargets {
		s := m.other[hop]
		if s == nil {
			s = &series{obs: m.hist.WithLabelValues(hop, "_other")}
			m.other[hop] = s
		}
		return s
	}
	s := &series{obs: m.hist.WithLabelValues(hop, target)}
	m.series.Store(key, s)
	m.named++
	return s
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
	ser := m.seriesOf(hop, cut(target))
	secs := s.EndTime().Sub(s.StartTime()).Seconds()
	if eo, ok := ser.obs.(prometheus.ExemplarObserver); ok && s.SpanContext().IsSampled() {
		last := &ser.exemplar[sort.SearchFloat64s(hopBuckets[:], secs)]
		now, was := s.EndTime().UnixNano(), last.Load()
		if now-was >= int64(exemplarEvery) && last.CompareAndSwap(was, now) {
			eo.ObserveWithExemplar(secs, prometheus.Labels{"trace_id": s.SpanContext().TraceID().String()})
			return
		}
	}
	ser.obs.Observe(secs)
}

// OnStart, Shutdown and ForceFlush do nothing.
func (m *Metrics) OnStart(context.Context, sdktrace.ReadWriteSpan) {}
func (m *Metrics) Shutdown(context.Context) error                  { return nil }
func (m *Metrics) ForceFlush(context.Context) error                { return nil }

// Describe and Collect make Metrics a prometheus.Collector.
func (m *Metrics) Describe(ch chan<- *prometheus.Desc) { m.hist.Describe(ch) }
func (m *Metrics) Collect(ch chan<- prometheus.Metric) { m.hist.Collect(ch) }
