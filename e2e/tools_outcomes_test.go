package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/funcd/funcd/runtime/delivery"
	"github.com/funcd/funcd/runtime/pubsub"
	"github.com/funcd/funcd/runtime/resources"
	"github.com/funcd/funcd/runtime/subscriptions"
)

// outcomeCase is one row of DESIGN §4's delivery table: what the function
// answers, and what the binding must do.
type outcomeCase struct {
	answer string // an HTTP status, "reply", "timeout" or "refused"
	want   string // "ack", "dead-letter" or "retry, then dead-letter"
}

var outcomeCases = []outcomeCase{
	{"200", "ack"}, {"204", "ack"}, {"reply", "ack"},
	{"400", "dead-letter"}, {"403", "dead-letter"}, {"413", "dead-letter"}, {"415", "dead-letter"}, {"422", "dead-letter"},
	{"404", "retry, then dead-letter"}, {"408", "retry, then dead-letter"}, {"409", "retry, then dead-letter"},
	{"429", "retry, then dead-letter"}, {"500", "retry, then dead-letter"}, {"503", "retry, then dead-letter"},
	{"timeout", "retry, then dead-letter"}, {"refused", "retry, then dead-letter"},
}

// outcomeRetry keeps the retry cases short: 1 + 2 attempts.
var outcomeRetry = delivery.RetryPolicy{MaxRetries: 2, Initial: 20 * time.Millisecond, Max: 40 * time.Millisecond, Multiplier: 2}

// answerer is a function that answers each event as its data says and
// counts the attempts per event id.
type answerer struct {
	srv      *httptest.Server
	mu       sync.Mutex
	attempts map[string]int
}

func newAnswerer(t *testing.T) *answerer {
	a := &answerer{attempts: map[string]int{}}
	a.srv = httptest.NewServer(http.HandlerFunc(a.serve))
	t.Cleanup(a.srv.Close)
	return a
}

func (a *answerer) serve(w http.ResponseWriter, r *http.Request) {
	var data struct {
		Answer string `json:"answer"`
	}
	_ = json.NewDecoder(r.Body).Decode(&data)
	a.mu.Lock()
	a.attempts[r.Header.Get("ce-id")]++
	a.mu.Unlock()
	switch data.Answer {
	case "timeout":
		time.Sleep(time.Second)
	case "reply": // a reply event whose data looks like a Dapr status
		w.Header().Set("ce-specversion", "1.0")
		w.Header().Set("ce-id", "reply")
		w.Header().Set("ce-source", "/fn")
		w.Header().Set("ce-type", "com.example.shipped")
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"status":"shipped"}`))
	default:
		code, _ := strconv.Atoi(data.Answer)
		w.WriteHeader(code)
	}
}

func (a *answerer) count(id string) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.attempts[id]
}

// answerTarget sends "fn" to the answerer and "refused" to a closed port.
type answerTarget struct{ fn, refused string }

func (t answerTarget) Acquire(_ context.Context, function string) (string, func(bool), error) {
	if function == "refused" {
		return t.refused, func(bool) {}, nil
	}
	return t.fn, func(bool) {}, nil
}

// driveOutcomes runs every outcome case through a binding on ps (the pub/sub
// component "orderpubsub" on Redis at redisAddr), topics prefixed with
// prefix, and returns what the binding did with each answer.
func driveOutcomes(t *testing.T, ps pubsub.PubSub, redisAddr, prefix string) map[string]string {
	t.Helper()
	a := newAnswerer(t)
	refused := "http://" + addr(freePort(t))
	var subs []resources.Subscription
	for _, target := range []string{"fn", "refused"} {
		subs = append(subs, resources.Subscription{
			Name: prefix + "-" + target, PubsubName: "orderpubsub", Topic: prefix + "-" + target,
			Routes: resources.Routes{Default: "/" + target}, DeadLetterTopic: prefix + "-dlq",
		})
	}
	b, err := subscriptions.New(subscriptions.Config{
		Subscriptions: subs, PubSubs: registryOf(ps), Target: answerTarget{fn: a.srv.URL, refused: refused},
		Retry: outcomeRetry, Timeout: 300 * time.Millisecond, Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Start(t.Context()); err != nil {
		t.Fatalf("binding start: %v", err)
	}
	t.Cleanup(func() { _ = b.Stop(context.Background()) })
	for _, c := range outcomeCases {
		topic := prefix + "-fn"
		if c.answer == "refused" {
			topic = prefix + "-refused"
		}
		ev := fmt.Sprintf(`{"specversion":"1.0","id":"%s-%s","source":"/e2e","type":"com.example.outcome","datacontenttype":"application/json","data":{"answer":"%s"}}`,
			prefix, c.answer, c.answer)
		if err := ps.Publish(t.Context(), &pubsub.Message{Topic: topic, Data: []byte(ev)}); err != nil {
			t.Fatalf("publish %s: %v", c.answer, err)
		}
	}
	rdb := redis.NewClient(&redis.Options{Addr: redisAddr})
	t.Cleanup(func() { rdb.Close() })
	wantDLQ := 0
	for _, c := range outcomeCases {
		if c.want != "ack" {
			wantDLQ++
		}
	}
	waitFor(t, 60*time.Second, "every dead letter", func() bool {
		n, _ := rdb.XLen(t.Context(), prefix+"-dlq").Result()
		return int(n) >= wantDLQ
	})
	time.Sleep(3 * time.Second) // redelivery of anything not acknowledged would show now
	dead := deadLettered(t, rdb, prefix+"-dlq")
	got := map[string]string{}
	for _, c := range outcomeCases {
		id := prefix + "-" + c.answer
		n := a.count(id)
		switch {
		case !dead[id] && n == 1:
			got[c.answer] = "ack"
		case dead[id] && n == 1:
			got[c.answer] = "dead-letter"
		case dead[id] && (n == 1+outcomeRetry.MaxRetries || c.answer == "refused"):
			got[c.answer] = "retry, then dead-letter"
		default:
			got[c.answer] = fmt.Sprintf("%d attempts, dead-lettered %v", n, dead[id])
		}
	}
	return got
}

// deadLettered returns the CloudEvent ids on a Redis stream.
func deadLettered(t *testing.T, rdb *redis.Client, stream string) map[string]bool {
	t.Helper()
	msgs, err := rdb.XRange(t.Context(), stream, "-", "+").Result()
	if err != nil {
		t.Fatalf("read %s: %v", stream, err)
	}
	ids := map[string]bool{}
	for _, m := range msgs {
		var ce struct {
			ID string `json:"id"`
		}
		data, _ := m.Values["data"].(string)
		_ = json.Unmarshal([]byte(data), &ce)
		ids[ce.ID] = true
	}
	return ids
}

type singleRegistry struct{ ps pubsub.PubSub }

func (r singleRegistry) Get(name string) (pubsub.PubSub, bool) { return r.ps, name == "orderpubsub" }

func registryOf(ps pubsub.PubSub) subscriptions.PubSubs { return singleRegistry{ps} }
