package subscriptionstest

import (
	"encoding/json"
	"fmt"
	"sync"

	contrib "github.com/dapr/components-contrib/pubsub"

	"github.com/funcd/funcd/runtime/pubsub"
)

// traceparent is the W3C trace context the published envelopes carry.
const traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

// id is the CloudEvent id of message n on the case's topic.
func (h *harness) id(n int) string { return fmt.Sprintf("%s-%d", h.topic, n) }

// envelope builds the Dapr envelope daprd publishes for JSON data
// {"n":n}, with components-contrib's own code; edit changes it first.
func (h *harness) envelope(n int, edit func(map[string]any)) []byte {
	h.t.Helper()
	env := contrib.NewCloudEventsEnvelope(h.id(n), "bindingtest", contrib.DefaultCloudEventType, "",
		h.topic, pubsubName, "application/json", fmt.Appendf(nil, `{"n":%d}`, n), traceparent, "")
	if edit != nil {
		edit(env)
	}
	b, err := json.Marshal(env)
	if err != nil {
		h.t.Fatal(err)
	}
	return b
}

// publish stores data on the case's topic.
func (h *harness) publish(data []byte) {
	h.t.Helper()
	if err := h.ps.Publish(h.t.Context(), &pubsub.Message{Topic: h.topic, Data: data}); err != nil {
		h.t.Fatalf("publish to %s: %v", h.topic, err)
	}
}

// publishN publishes messages 1..n from Concurrency publishers at once and
// returns their ids.
func (h *harness) publishN(n int) []string {
	h.t.Helper()
	ids := make([]string, n)
	msgs := make(chan *pubsub.Message, n)
	for i := range n {
		ids[i] = h.id(i + 1)
		msgs <- &pubsub.Message{Topic: h.topic, Data: h.envelope(i+1, nil)}
	}
	close(msgs)
	errs := make(chan error, n)
	var wg sync.WaitGroup
	for range min(n, Concurrency) {
		wg.Go(func() {
			for m := range msgs {
				if err := h.ps.Publish(h.t.Context(), m); err != nil {
					errs <- fmt.Errorf("publish %s: %w", idOf(m.Data), err)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		h.t.Fatal(err)
	}
	return ids
}

// idOf returns the CloudEvent id in an envelope.
func idOf(data []byte) string {
	var ce struct {
		ID string `json:"id"`
	}
	_ = json.Unmarshal(data, &ce)
	return ce.ID
}
