package platform

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics serves the platform's state in the Prometheus text format, read
// at each scrape from the same counters `funcd status` shows, plus the Go
// runtime's and the process's own metrics.
func (p *Platform) Metrics() http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collector{p}, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if p.tracing != nil {
		reg.MustRegister(p.tracing.Metrics) // hop histograms with trace exemplars
	}
	// OpenMetrics, when the scraper asks for it, carries the exemplars. No
	// compression: the gateway listens on 127.0.0.1 only, where gzip saves
	// no time, and its writers (about 1 MB each, pooled) would stay in the
	// heap of an idle funcd scraped now and then.
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{EnableOpenMetrics: true, DisableCompression: true})
}

var (
	fnLabels       = []string{"function"}
	descInstances  = prometheus.NewDesc("funcd_function_instances", "Running instances of the function.", fnLabels, nil)
	descInFlight   = prometheus.NewDesc("funcd_function_in_flight", "Requests and deliveries the function's instances hold.", fnLabels, nil)
	descColdStarts = prometheus.NewDesc("funcd_function_cold_starts_total", "Starts of an instance from zero.", fnLabels, nil)
	descCalls      = prometheus.NewDesc("funcd_function_calls_total", "Requests (gateway) and deliveries (subscriptions, input bindings) sent to the function.",
		[]string{"function", "kind"}, nil)
	descFailures = prometheus.NewDesc("funcd_function_failures_total", "Calls that failed: 5xx answers and transport errors.", fnLabels, nil)
	descMessages = prometheus.NewDesc("funcd_subscription_messages_total",
		"What became of the subscription's messages: delivered, dead_lettered, dropped or returned to the broker.",
		[]string{"subscription", "pubsub", "topic", "outcome"}, nil)
	descRetries = prometheus.NewDesc("funcd_subscription_retries_total", "Delivery attempts beyond the first.",
		[]string{"subscription", "pubsub", "topic"}, nil)
)

// collector turns the activator's and the binding's counters into metrics.
type collector struct{ p *Platform }

func (collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descInstances, descInFlight, descColdStarts, descCalls, descFailures, descMessages, descRetries} {
		ch <- d
	}
}

func (c collector) Collect(ch chan<- prometheus.Metric) {
	for _, st := range c.p.Status() {
		fn := st.Function
		ch <- prometheus.MustNewConstMetric(descInstances, prometheus.GaugeValue, float64(st.Instances), fn)
		ch <- prometheus.MustNewConstMetric(descInFlight, prometheus.GaugeValue, float64(st.InFlight), fn)
		ch <- prometheus.MustNewConstMetric(descColdStarts, prometheus.CounterValue, float64(st.ColdStarts), fn)
		ch <- prometheus.MustNewConstMetric(descCalls, prometheus.CounterValue, float64(st.Requests), fn, "request")
		ch <- prometheus.MustNewConstMetric(descCalls, prometheus.CounterValue, float64(st.Deliveries), fn, "delivery")
		ch <- prometheus.MustNewConstMetric(descFailures, prometheus.CounterValue, float64(st.Failures), fn)
	}
	for _, s := range c.p.Subscriptions() {
		for outcome, n := range map[string]int64{
			"delivered": s.Delivered, "dead_lettered": s.DeadLettered, "dropped": s.Dropped, "returned": s.Returned,
		} {
			ch <- prometheus.MustNewConstMetric(descMessages, prometheus.CounterValue, float64(n), s.Name, s.PubSub, s.Topic, outcome)
		}
		ch <- prometheus.MustNewConstMetric(descRetries, prometheus.CounterValue, float64(s.Retries), s.Name, s.PubSub, s.Topic)
	}
}
