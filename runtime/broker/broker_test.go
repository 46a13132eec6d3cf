package broker

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/funcd/funcd/runtime/pubsub"
)

// start runs a broker on a free port with its store in dir, closed at the
// end of the test.
func start(t *testing.T, dir string) *Broker {
	t.Helper()
	b, err := Start(Config{StoreDir: dir, Port: -1})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

// connect returns a JetStream client of b.
func connect(t *testing.T, b *Broker) nats.JetStreamContext {
	t.Helper()
	nc, err := b.Connect()
	if err != nil {
		t.Fatalf("connect to %s: %v", b.URL(), err)
	}
	t.Cleanup(nc.Close)
	js, err := nc.JetStream()
	if err != nil {
		t.Fatal(err)
	}
	return js
}

func TestConfigValidate(t *testing.T) {
	if _, err := Start(Config{Port: -1}); err == nil || !strings.Contains(err.Error(), "StoreDir") {
		t.Errorf("got %v, want an error naming StoreDir", err)
	}
}

func TestStart(t *testing.T) {
	b := start(t, t.TempDir())
	if !strings.HasPrefix(b.URL(), "nats://127.0.0.1:") || strings.HasSuffix(b.URL(), ":-1") {
		t.Errorf("got URL %q, want nats://127.0.0.1:<free port>", b.URL())
	}
	js := connect(t, b)
	if _, err := js.AccountInfo(); err != nil {
		t.Errorf("got %v, want JetStream enabled", err)
	}
}

func TestStartTwoBrokers(t *testing.T) {
	a, b := start(t, t.TempDir()), start(t, t.TempDir())
	if a.URL() == b.URL() {
		t.Errorf("got the same URL %s twice, want distinct free ports", a.URL())
	}
}

func TestEnsureStream(t *testing.T) {
	b := start(t, t.TempDir())
	js := connect(t, b)
	for range 2 { // idempotent
		if err := b.EnsureStream("orders.eu"); err != nil {
			t.Fatalf("EnsureStream: %v", err)
		}
	}
	info, err := js.StreamInfo(StreamName("orders.eu"))
	if err != nil {
		t.Fatalf("StreamInfo: %v", err)
	}
	if got := info.Config.Subjects; len(got) != 1 || got[0] != "orders.eu" {
		t.Errorf("got subjects %v, want [orders.eu]", got)
	}
	if got := info.Config.Storage; got != nats.FileStorage {
		t.Errorf("got storage %v, want file", got)
	}
	if _, err := js.Publish("orders.eu", []byte("x")); err != nil {
		t.Errorf("publish to the stream's subject: %v", err)
	}
}

func TestEnsureStreamMaxAge(t *testing.T) {
	b, err := Start(Config{StoreDir: t.TempDir(), Port: -1, MaxAge: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if err := b.EnsureStream("orders"); err != nil {
		t.Fatal(err)
	}
	info, err := connect(t, b).StreamInfo("orders")
	if err != nil {
		t.Fatal(err)
	}
	if info.Config.MaxAge != time.Hour {
		t.Errorf("got MaxAge %v, want 1h", info.Config.MaxAge)
	}
}

func TestEnsureStreamConcurrent(t *testing.T) {
	b := start(t, t.TempDir())
	topics := []string{"orders", "orders.eu", "orders/us", "refunds"}
	var wg sync.WaitGroup
	errs := make(chan error, 10*len(topics))
	for i := range 10 * len(topics) {
		wg.Go(func() { errs <- b.EnsureStream(topics[i%len(topics)]) })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("EnsureStream: %v", err)
		}
	}
	var names []string
	for name := range connect(t, b).StreamNames() {
		names = append(names, name)
	}
	if len(names) != len(topics) {
		t.Errorf("got streams %v, want one per topic of %v", names, topics)
	}
}

func TestEnsureStreamInvalidTopic(t *testing.T) {
	b := start(t, t.TempDir())
	tests := []struct{ name, topic string }{
		{name: "empty", topic: ""},
		{name: "star", topic: "orders.*"},
		{name: "full wildcard", topic: "orders.>"},
		{name: "space", topic: "new orders"},
		{name: "tab", topic: "orders\t"},
		{name: "newline", topic: "orders\n"},
		{name: "leading dot", topic: ".orders"},
		{name: "trailing dot", topic: "orders."},
		{name: "empty segment", topic: "orders..eu"},
		{name: "control character", topic: "orders\x00"},
		{name: "delete", topic: "orders\x7f"},
		{name: "not UTF-8", topic: "orders\xff"},
		{name: "too long", topic: strings.Repeat("a", MaxTopicBytes+1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := b.EnsureStream(tt.topic)
			if !errors.Is(err, pubsub.ErrInvalidTopic) {
				t.Fatalf("EnsureStream(%q): got %v, want pubsub.ErrInvalidTopic", tt.topic, err)
			}
			if want := fmt.Sprintf("%.64q", tt.topic); tt.topic != "" && !strings.Contains(err.Error(), want) {
				t.Errorf("got %q, want it to name the topic %s", err, want)
			}
		})
	}
}

func TestEnsureStreamLongestTopic(t *testing.T) {
	b := start(t, t.TempDir())
	for _, topic := range []string{strings.Repeat("a", MaxTopicBytes), strings.Repeat("a.", MaxTopicBytes/2-1) + "ab"} {
		if err := b.EnsureStream(topic); err != nil {
			t.Errorf("EnsureStream(%d bytes): got %v, want a stream", len(topic), err)
		}
	}
}

func TestStreamName(t *testing.T) {
	tests := []struct {
		name, topic string
		want        string // "" when only validity and uniqueness are checked
	}{
		{name: "plain", topic: "orders", want: "orders"},
		{name: "dash and underscore", topic: "order-events_v2", want: "order-events_v2"},
		{name: "upper case", topic: "Orders", want: "Orders"},
		{name: "dot", topic: "orders.eu"},
		{name: "underscore look-alike of the dot", topic: "orders_eu", want: "orders_eu"},
		{name: "slash", topic: "orders/eu"},
		{name: "backslash", topic: `orders\eu`},
		{name: "star", topic: "orders*"},
		{name: "gt", topic: "orders>"},
		{name: "space", topic: "orders eu"},
		{name: "non-ASCII", topic: "bestellungen-ü"},
	}
	seen := map[string]string{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := StreamName(tt.topic)
			if tt.want != "" && got != tt.want {
				t.Errorf("StreamName(%q): got %q, want %q", tt.topic, got, tt.want)
			}
			if i := strings.IndexFunc(got, func(r rune) bool {
				return r <= ' ' || r > '~' || strings.ContainsRune(`.*>/\`, r)
			}); i >= 0 {
				t.Errorf("StreamName(%q): got %q, want no %q in a stream name", tt.topic, got, got[i])
			}
			if StreamName(tt.topic) != got {
				t.Errorf("StreamName(%q) is not stable", tt.topic)
			}
			if other, dup := seen[got]; dup {
				t.Errorf("StreamName(%q) = StreamName(%q) = %q, want distinct names", tt.topic, other, got)
			}
			seen[got] = tt.topic
		})
	}
}

// TestPortNeedsTheToken: a process that finds the broker's port cannot
// connect without this run's token, so it cannot publish, read stream
// info or purge; with the token it can.
func TestPortNeedsTheToken(t *testing.T) {
	b := start(t, t.TempDir())
	if err := b.EnsureStream("orders"); err != nil {
		t.Fatal(err)
	}
	for name, opts := range map[string][]nats.Option{
		"no credentials": nil,
		"wrong token":    {nats.Token("guess")},
		"user and pass":  {nats.UserInfo("funcd", "funcd")},
	} {
		t.Run(name, func(t *testing.T) {
			nc, err := nats.Connect(b.URL(), append(opts, nats.NoReconnect(), nats.Timeout(2*time.Second))...)
			if err == nil {
				nc.Close()
				t.Fatal("got a connection, want it refused")
			}
			if !errors.Is(err, nats.ErrAuthorization) {
				t.Errorf("got %v, want an authorization error", err)
			}
		})
	}
	nc, err := nats.Connect(b.URL(), nats.Token(b.Token()), nats.NoReconnect())
	if err != nil {
		t.Fatalf("with the token: %v", err)
	}
	defer nc.Close()
	if len(b.Token()) < 32 {
		t.Errorf("got a %d-character token, want at least 32", len(b.Token()))
	}
	if other := start(t, t.TempDir()); other.Token() == b.Token() {
		t.Error("got the same token for two brokers, want one per run")
	}
}
