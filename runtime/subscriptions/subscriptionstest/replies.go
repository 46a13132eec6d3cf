package subscriptionstest

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/funcd/funcd/runtime/resources"
)

// testReply: a CloudEvent in a 2xx answer is published to the
// subscription's replyTopic, keeping the event and adding the trigger's
// trace context; a plain JSON body that looks like a Dapr status is not a
// reply and not a status: the message is acknowledged once.
func testReply(t *testing.T, open Opener) {
	var h *harness
	reply := func(c call) answer {
		if c.id != h.id(1) {
			return answer{status: http.StatusOK, header: map[string]string{"Content-Type": "application/json"},
				body: `{"status":"RETRY"}`}
		}
		return answer{status: http.StatusOK, body: `{"shipped":true}`, header: map[string]string{
			"Ce-Specversion": "1.0", "Ce-Id": "reply-" + c.id, "Ce-Source": "fn",
			"Ce-Type": "com.example.shipped", "Content-Type": "application/json",
		}}
	}
	h = setup(t, open, config{answer: reply, replies: true})
	h.publish(h.envelope(1, nil))
	h.publish(h.envelope(2, nil))
	waitFor(t, "a reply on the reply topic", func() bool { return len(h.reply.all()) > 0 }, h.state)
	h.waitAccepted([]string{h.id(1), h.id(2)})
	time.Sleep(Quiet)

	replies := h.reply.all()
	if len(replies) != 1 {
		t.Fatalf("reply topic holds %d messages, want 1 (for %s only)", len(replies), h.id(1))
	}
	var env map[string]any
	if err := json.Unmarshal(replies[0].Data, &env); err != nil {
		t.Fatalf("reply %s is not a JSON envelope: %v", replies[0].Data, err)
	}
	for k, want := range map[string]any{
		"id": "reply-" + h.id(1), "type": "com.example.shipped", "source": "fn",
		"topic": h.topic + "-replies", "pubsubname": pubsubName, "traceparent": traceparent,
		"data": map[string]any{"shipped": true},
	} {
		if got, _ := json.Marshal(env[k]); string(got) != mustJSON(want) {
			t.Errorf("reply %s: got %s, want %s", k, got, mustJSON(want))
		}
	}
	for _, id := range []string{h.id(1), h.id(2)} {
		if got := h.fn.calls(id); got != 1 {
			t.Errorf("%s: delivered %d times, want once: a reply body is never a Dapr status", id, got)
		}
	}
	h.checkDead(0)
}

// testRouting: routes.rules with CEL match expressions pick the function,
// in order; an event no rule matches (and no default route) is not
// delivered, and goes to the dead-letter topic, as daprd 1.16 does
// (pkg/runtime/subscription: "no matching route", sendToDeadLetter).
func testRouting(t *testing.T, open Opener) {
	routes := &resources.Routes{Rules: []resources.Rule{
		{Match: `event.type == "com.example.priority"`, Path: "/priority"},
		{Match: `event.data.n == 2.0`, Path: "/fn"},
	}}
	h := setup(t, open, config{answer: always(http.StatusOK), routes: routes,
		others: map[string]func(call) answer{"priority": always(http.StatusOK)}})
	h.publish(h.envelope(1, func(env map[string]any) { env["type"] = "com.example.priority" }))
	h.publish(h.envelope(2, nil))
	h.publish(h.envelope(3, nil))
	priority := h.others["priority"]
	waitFor(t, "both routed messages and the unrouted one dead-lettered", func() bool {
		return priority.calls(h.id(1)) > 0 && h.fn.calls(h.id(2)) > 0 && len(h.dead.all()) > 0
	}, h.state)
	time.Sleep(Quiet)
	for _, c := range []struct {
		fn   string
		f    *function
		want []string
	}{{"priority", priority, []string{h.id(1)}}, {"fn", h.fn, []string{h.id(2)}}} {
		var got []string
		for _, d := range c.f.all() {
			got = append(got, d.id)
		}
		if len(got) != len(c.want) || got[0] != c.want[0] {
			t.Errorf("function %s got %v, want %v", c.fn, got, c.want)
		}
	}
	h.checkDead(1, h.id(3))
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
