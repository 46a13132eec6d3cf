package tracing_test

import (
	"os"
	"time"

	"github.com/funcd/funcd/runtime/tracing"
)

// A delivery that failed once and then succeeded, as funcd trace draws it.
func ExampleWaterfall() {
	t0 := time.Date(2026, 12, 2, 8, 0, 0, 0, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	fn := map[string]string{"faas.invoked_name": "order-processor"}
	attempt := func(n, outcome, status string) map[string]string {
		return map[string]string{"faas.invoked_name": "order-processor", "funcd.delivery.attempt": n,
			"funcd.delivery.outcome": outcome, "http.response.status_code": status}
	}
	_ = tracing.Waterfall(os.Stdout, tracing.Trace{TraceID: "4bf92f3577b34da6a3ce929d0e0e4736", Spans: []tracing.Span{
		{SpanID: "a", Name: "publish orders", Service: "funcd", Start: at(0), End: at(2)},
		{SpanID: "b", ParentID: "a", Name: "wait orders", Service: "funcd", Start: at(1), End: at(3)},
		{SpanID: "c", ParentID: "a", Name: "process orders", Start: at(3), End: at(210), Attributes: fn},
		{SpanID: "d", ParentID: "c", Name: "deliver order-processor", Start: at(3), End: at(5), Status: "error",
			Attributes: attempt("1", "retry", "503")},
		{SpanID: "e", ParentID: "c", Name: "deliver order-processor", Start: at(205), End: at(210),
			Attributes: attempt("2", "ack", "200")},
	}})
	// Output:
	// trace 4bf92f3577b34da6a3ce929d0e0e4736  order-processor  210ms  5 spans  retried
	//
	// OFFSET  DURATION  SPAN                         FUNCTION         OUTCOME    TIMELINE
	// 0s      2ms       publish orders               funcd            ok         |█                                       |
	// 1ms     2ms         wait orders                funcd            ok         |█                                       |
	// 3ms     207ms       process orders             order-processor  ok         |███████████████████████████████████████ |
	// 3ms     2ms           deliver order-processor  order-processor  retry 503  |█                                       |
	// 205ms   5ms           deliver order-processor  order-processor  ack 200    |                                       █|
}
