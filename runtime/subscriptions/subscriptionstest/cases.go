package subscriptionstest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"testing"
	"time"

	contrib "github.com/dapr/components-contrib/pubsub"
)

// testAckOnce: a function that accepts every event gets each message
// exactly once, intact, as a binary-mode CloudEvent.
func testAckOnce(t *testing.T, open Opener) {
	h := setup(t, open, config{answer: always(http.StatusOK)})
	ids := h.publishN(3)
	h.waitAccepted(ids)
	time.Sleep(Quiet)
	for n, id := range ids {
		if got := h.fn.calls(id); got != 1 {
			t.Errorf("%s: delivered %d times, want exactly once", id, got)
		}
		h.checkIntact(id, n+1)
	}
	h.checkDead(0)
}

// testFlakyFunction: the function fails the first 2 deliveries of every
// message, and every 5th request besides; every message still arrives.
// Duplicates (2xx answered more than once for one message) are allowed by
// at-least-once delivery: they are counted and reported.
func testFlakyFunction(t *testing.T, open Opener) {
	flaky := func(c call) answer {
		switch {
		case c.attempt <= 2:
			return answer{status: http.StatusServiceUnavailable}
		case c.seq%5 == 0:
			return answer{status: http.StatusInternalServerError}
		}
		return answer{status: http.StatusOK}
	}
	retry := fastRetry
	retry.MaxRetries = 10
	// No dead-letter topic: a spent budget hands the message back to the
	// broker, so nothing may go missing.
	h := setup(t, open, config{answer: flaky, retry: retry, noDeadLetter: true})
	ids := h.publishN(50)
	h.waitAccepted(ids)
	time.Sleep(Quiet)
	for _, id := range ids {
		if got := h.fn.calls(id); got < 3 {
			t.Errorf("%s: delivered %d times, want at least 3 (two failures, then success)", id, got)
		}
	}
	all := h.fn.all()
	failed := 0
	for _, d := range all {
		if d.status >= 300 {
			failed++
		}
	}
	if failed < 2*len(ids) {
		t.Errorf("%d requests answered with a failure, want at least %d (the first two of every message)", failed, 2*len(ids))
	}
	h.checkAcceptedOnly(ids)
	t.Logf("%d messages: %d requests, %d answered with a failure, %d duplicate deliveries",
		len(ids), len(all), failed, duplicates(h.fn.accepted()))
}

// testPermanentFailure: a 400 is not retried; exactly one copy of the
// message goes to the dead-letter topic.
func testPermanentFailure(t *testing.T, open Opener) {
	h := setup(t, open, config{answer: always(http.StatusBadRequest)})
	h.publish(h.envelope(1, nil))
	h.waitDead(1)
	time.Sleep(Quiet)
	h.checkDead(1, h.id(1))
	if got := h.fn.calls(h.id(1)); got != 1 {
		t.Errorf("delivered %d times, want once: a permanent failure is not retried", got)
	}
}

// testRetriesSpent: a function that keeps failing gets the first delivery
// and MaxRetries retries, then the message goes to the dead-letter topic.
func testRetriesSpent(t *testing.T, open Opener) {
	h := setup(t, open, config{answer: always(http.StatusServiceUnavailable)})
	h.publish(h.envelope(1, nil))
	h.waitDead(1)
	time.Sleep(Quiet)
	h.checkDead(1, h.id(1))
	if got, want := h.fn.calls(h.id(1)), fastRetry.MaxRetries+1; got != want {
		t.Errorf("delivered %d times, want %d (first delivery and %d retries)", got, want, fastRetry.MaxRetries)
	}
}

// testExpired: a message whose expiration (Dapr's ttlInSeconds) has passed
// is not delivered but dead-lettered.
func testExpired(t *testing.T, open Opener) {
	h := setup(t, open, config{answer: always(http.StatusOK)})
	h.publish(h.envelope(1, func(env map[string]any) {
		env[contrib.ExpirationField] = time.Now().Add(-time.Minute).UTC().Format(time.RFC3339)
	}))
	h.waitDead(1)
	time.Sleep(Quiet)
	h.checkDead(1, h.id(1))
	if got := len(h.fn.all()); got != 0 {
		t.Errorf("expired message delivered %d times, want never", got)
	}
}

// testRawPayload: with rawPayload=true the function receives the published
// bytes as they are, wrapped the way daprd wraps raw payloads.
func testRawPayload(t *testing.T, open Opener) {
	h := setup(t, open, config{answer: always(http.StatusOK), metadata: map[string]string{"rawPayload": "true"}})
	raw := []byte("raw \x00\x01\xfe\xff payload, not JSON")
	h.publish(raw)
	waitFor(t, "the raw payload to be delivered", func() bool { return len(h.fn.all()) > 0 }, h.state)
	d := h.fn.all()[0]
	if !bytes.Equal(d.body, raw) {
		t.Errorf("got body %q, want %q", d.body, raw)
	}
	for k, want := range map[string]string{
		"Content-Type": "application/octet-stream", "Ce-Type": contrib.DefaultCloudEventType, "Ce-Topic": h.topic,
	} {
		if got := d.header.Get(k); got != want {
			t.Errorf("got %s %q, want %q", k, got, want)
		}
	}
}

// testManyInParallel: a thousand messages, delivered up to Concurrency at
// once; none is lost. Duplicates and the parallelism seen are reported.
func testManyInParallel(t *testing.T, open Opener) {
	// Each delivery takes a little while, so parallel deliveries overlap.
	slow := func(call) answer { time.Sleep(5 * time.Millisecond); return answer{status: http.StatusOK} }
	h := setup(t, open, config{answer: slow})
	ids := h.publishN(1000)
	h.waitAccepted(ids)
	if peak := h.fn.peak(); peak > Concurrency {
		t.Errorf("function handled %d deliveries at once, want at most %d", peak, Concurrency)
	}
	h.checkAcceptedOnly(ids)
	// At-least-once allows a duplicate where a redelivery races an
	// acknowledgement; most messages twice means acknowledgements are lost.
	if dup := duplicates(h.fn.accepted()); dup >= len(ids)/2 {
		t.Errorf("%d duplicate deliveries of %d messages, want fewer than half", dup, len(ids))
	}
	t.Logf("1000 messages delivered, up to %d at once; %d duplicate deliveries", h.fn.peak(), duplicates(h.fn.accepted()))
}

// checkAcceptedOnly checks that the messages the function accepted are
// exactly ids: none missing, none from elsewhere.
func (h *harness) checkAcceptedOnly(ids []string) {
	h.t.Helper()
	got := slices.Sorted(maps.Keys(h.fn.accepted()))
	want := slices.Sorted(slices.Values(ids))
	if !slices.Equal(got, want) {
		h.t.Errorf("function accepted %d distinct messages, want exactly the %d published", len(got), len(want))
	}
}

// waitAccepted waits until the function accepted each of ids at least once.
func (h *harness) waitAccepted(ids []string) {
	h.t.Helper()
	waitFor(h.t, fmt.Sprintf("%d messages accepted by the function", len(ids)), func() bool {
		acc := h.fn.accepted()
		return !slices.ContainsFunc(ids, func(id string) bool { return acc[id] == 0 })
	}, h.state)
}

// waitDead waits for n messages on the dead-letter topic.
func (h *harness) waitDead(n int) {
	h.t.Helper()
	waitFor(h.t, fmt.Sprintf("%d dead-lettered messages", n), func() bool { return len(h.dead.all()) >= n }, h.state)
}

// checkDead checks that the dead-letter topic holds exactly n messages: the
// original envelopes with ids, in any order.
func (h *harness) checkDead(n int, ids ...string) {
	h.t.Helper()
	var got []string
	for _, m := range h.dead.all() {
		got = append(got, idOf(m.Data))
	}
	slices.Sort(got)
	slices.Sort(ids)
	if len(got) != n || (ids != nil && !slices.Equal(got, ids)) {
		h.t.Errorf("dead-letter topic holds %v, want %d message(s) %v", got, n, ids)
	}
}

// checkIntact checks the first delivery of id carries message n as daprd
// delivers it: the envelope's attributes as CloudEvent headers, the data as
// the body.
func (h *harness) checkIntact(id string, n int) {
	h.t.Helper()
	i := slices.IndexFunc(h.fn.all(), func(d request) bool { return d.id == id })
	if i < 0 {
		h.t.Errorf("%s: never delivered", id)
		return
	}
	d := h.fn.all()[i]
	for k, want := range map[string]string{
		"Ce-Specversion": "1.0", "Ce-Source": "bindingtest", "Ce-Type": contrib.DefaultCloudEventType,
		"Ce-Topic": h.topic, "Ce-Pubsubname": pubsubName, "Content-Type": "application/json",
		"Traceparent": traceparent,
	} {
		if got := d.header.Get(k); got != want {
			h.t.Errorf("%s: got %s %q, want %q", id, k, got, want)
		}
	}
	var data struct{ N int }
	if err := json.Unmarshal(d.body, &data); err != nil || data.N != n {
		h.t.Errorf("%s: got body %s, want {\"n\":%d}", id, d.body, n)
	}
}

// state describes what the case has seen, for timeouts.
func (h *harness) state() string {
	s := fmt.Sprintf("function got %d deliveries (%d distinct messages accepted)", len(h.fn.all()), len(h.fn.accepted()))
	for name, fn := range h.others {
		s += fmt.Sprintf(", function %s got %d", name, len(fn.all()))
	}
	for name, in := range map[string]*inbox{"dead-letter": h.dead, "reply": h.reply} {
		if in != nil {
			s += fmt.Sprintf(", %s topic holds %d", name, len(in.all()))
		}
	}
	return s
}

// duplicates counts the accepted deliveries beyond the first of each message.
func duplicates(accepted map[string]int) int {
	n := 0
	for _, c := range accepted {
		n += c - 1
	}
	return n
}
