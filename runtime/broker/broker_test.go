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
		if err := b.EnsureStream("orders.eu", Limits{}); err != nil {
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

// TestEnsureStreamLimits: a stream keeps what its limits allow, the
// defaults when none are given, and an existing stream (from a run before
// limits, or with other ones) gets the limits it is used with.
func TestEnsureStreamLimits(t *testing.T) {
	b := start(t, t.TempDir())
	js := connect(t, b)
	if _, err := js.AddStream(&nats.StreamConfig{Name: "old", Subjects: []string{"old"}, Storage: nats.FileStorage}); err != nil {
		t.Fatal(err) // as EnsureStream made it before it set limits
	}
	custom := Limits{MaxAge: time.Hour, MaxBytes: 1 << 20, MaxMsgs: 10, DuplicateWindow: 5 * time.Second}
	defaults := Limits{MaxAge: DefaultMaxAge, MaxBytes: DefaultMaxBytes, MaxMsgs: DefaultMaxMsgs, DuplicateWindow: DefaultDuplicateWindow}
	tests := []struct {
		name, topic string
		limits      Limits
		want        Limits
	}{
		{name: "defaults", topic: "orders", want: defaults},
		{name: "given", topic: "custom", limits: custom, want: custom},
		{name: "some given", topic: "some", limits: Limits{MaxMsgs: 5}, want: Limits{MaxAge: DefaultMaxAge, MaxBytes: DefaultMaxBytes, MaxMsgs: 5, DuplicateWindow: DefaultDuplicateWindow}},
		{name: "age under the window", topic: "short", limits: Limits{MaxAge: 10 * time.Second}, want: Limits{MaxAge: 10 * time.Second, MaxBytes: DefaultMaxBytes, MaxMsgs: DefaultMaxMsgs, DuplicateWindow: 10 * time.Second}},
		{name: "existing stream without limits", topic: "old", want: Limits{}.WithDefaults()},
		{name: "existing stream, other limits", topic: "custom", limits: Limits{MaxMsgs: 20}, want: Limits{MaxMsgs: 20}.WithDefaults()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := b.EnsureStream(tt.topic, tt.limits); err != nil {
				t.Fatal(err)
			}
			info, err := js.StreamInfo(StreamName(tt.topic))
			if err != nil {
				t.Fatal(err)
			}
			got := limitsOf(info.Config)
			if got != tt.want || info.Config.Discard != nats.DiscardOld {
				t.Errorf("got %+v discard %v, want %+v discard old", got, info.Config.Discard, tt.want)
			}
		})
	}
	// The limit removes the oldest messages.
	for i := range 15 {
		if _, err := js.Publish("custom", []byte(fmt.Sprint(i))); err != nil {
			t.Fatal(err)
		}
	}
	if info, _ := js.StreamInfo("custom"); info.State.Msgs != 15 {
		t.Errorf("custom (20 kept): got %d messages, want 15", info.State.Msgs)
	}
	_ = b.EnsureStream("custom", custom)
	if info, _ := js.StreamInfo("custom"); info.State.Msgs != 10 || info.State.FirstSeq != 6 {
		t.Errorf("custom (10 kept): got %d messages from %d, want the last 10", info.State.Msgs, info.State.FirstSeq)
	}
}

// TestDuplicateWindow: within its duplicate window a stream acknowledges a
// publish of an id it holds as a duplicate and stores it once; after the
// window the same id is stored again.
func TestDuplicateWindow(t *testing.T) {
	b := start(t, t.TempDir())
	js := connect(t, b)
	if err := b.EnsureStream("orders", Limits{DuplicateWindow: time.Second}); err != nil {
		t.Fatal(err)
	}
	publish := func() *nats.PubAck {
		t.Helper()
		ack, err := js.Publish("orders", []byte(`{}`), nats.MsgId("order-1"))
		if err != nil {
			t.Fatal(err)
		}
		return ack
	}
	if first, again := publish(), publish(); first.Duplicate || !again.Duplicate || again.Sequence != first.Sequence {
		t.Fatalf("got %+v then %+v, want the second a duplicate of the first", first, again)
	}
	deadline := time.Now().Add(10 * time.Second)
	for publish().Duplicate {
		if time.Now().After(deadline) {
			t.Fatal("the id was still held 10s after a window of 1s")
		}
		time.Sleep(100 * time.Millisecond)
	}
	info, err := js.StreamInfo(StreamName("orders"))
	if err != nil {
		t.Fatal(err)
	}
	if info.State.Msgs != 2 {
		t.Errorf("got %d messages, want 2: the first, and the same id again after the window", info.State.Msgs)
	}
}

// TestDefaultTopicsFit: DefaultMaxTopics streams with the default limits
// fit the store JetStream reserves their bytes from.
func TestDefaultTopicsFit(t *testing.T) {
	b := start(t, t.TempDir())
	for i := range DefaultMaxTopics {
		if err := b.EnsureStream(fmt.Sprintf("topic-%d", i), Limits{}); err != nil {
			t.Fatalf("topic %d of %d: %v", i+1, DefaultMaxTopics, err)
		}
	}
	if err := b.EnsureStream("one-more", Limits{}); !errors.Is(err, pubsub.ErrTopicLimit) {
		t.Errorf("topic %d: got %v, want the topic limit", DefaultMaxTopics+1, err)
	}
}

// TestStreamTooLargeForTheDisk: a stream whose MaxBytes the store cannot
// reserve is refused as a limit (403), saying what to change.
func TestStreamTooLargeForTheDisk(t *testing.T) {
	b := start(t, t.TempDir())
	err := b.EnsureStream("huge", Limits{MaxBytes: 1 << 60})
	if !errors.Is(err, pubsub.ErrTopicLimit) || !strings.Contains(err.Error(), "streamMaxBytes") {
		t.Errorf("got %v, want the topic limit naming streamMaxBytes", err)
	}
}

// TestEnsureStreamBound: topics past MaxTopics are refused with
// pubsub.ErrTopicLimit, streams of an earlier run count, known topics stay
// usable.
func TestEnsureStreamBound(t *testing.T) {
	dir := t.TempDir()
	b, err := Start(Config{StoreDir: dir, Port: -1, MaxTopics: 3})
	if err != nil {
		t.Fatal(err)
	}
	for _, topic := range []string{"a", "b"} {
		if err := b.EnsureStream(topic, Limits{}); err != nil {
			t.Fatal(err)
		}
	}
	b.Close()
	b, err = Start(Config{StoreDir: dir, Port: -1, MaxTopics: 3})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	for _, tt := range []struct {
		topic   string
		wantErr bool
	}{{"c", false}, {"d", true}, {"a", false}, {"c", false}, {"e", true}} {
		err := b.EnsureStream(tt.topic, Limits{})
		if got := errors.Is(err, pubsub.ErrTopicLimit); got != tt.wantErr || (err != nil) != tt.wantErr {
			t.Errorf("EnsureStream(%q): got %v, want the limit: %v", tt.topic, err, tt.wantErr)
		}
		if tt.wantErr && (!strings.Contains(err.Error(), "at most 3") || !strings.Contains(err.Error(), "--max-topics")) {
			t.Errorf("got %q, want it to name the bound and the flag", err)
		}
	}
	topics, max := b.Topics()
	if len(topics) != 3 || max != 3 {
		t.Errorf("Topics: got %d of %d, want 3 of 3", len(topics), max)
	}
	if _, err := Start(Config{StoreDir: t.TempDir(), MaxTopics: -1}); err == nil {
		t.Error("MaxTopics -1: got nil, want an error")
	}
}

func TestEnsureStreamConcurrent(t *testing.T) {
	b := start(t, t.TempDir())
	topics := []string{"orders", "orders.eu", "orders/us", "refunds"}
	var wg sync.WaitGroup
	errs := make(chan error, 10*len(topics))
	for i := range 10 * len(topics) {
		wg.Go(func() { errs <- b.EnsureStream(topics[i%len(topics)], Limits{}) })
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
			err := b.EnsureStream(tt.topic, Limits{})
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
		if err := b.EnsureStream(topic, Limits{}); err != nil {
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
	if err := b.EnsureStream("orders", Limits{}); err != nil {
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

// TestSync: the fsync policy reaches the server; the default is every
// second, not NATS's two minutes.
func TestSync(t *testing.T) {
	tests := []struct {
		name string
		in   Sync
		want Sync
	}{
		{name: "default", want: Sync{Every: time.Second}},
		{name: "always", in: Sync{Always: true}, want: Sync{Always: true}},
		{name: "interval", in: Sync{Every: 250 * time.Millisecond}, want: Sync{Every: 250 * time.Millisecond}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := Start(Config{StoreDir: t.TempDir(), Port: -1, Sync: tt.in})
			if err != nil {
				t.Fatal(err)
			}
			defer b.Close()
			if got := b.syncConfig(); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestParseSync(t *testing.T) {
	for in, want := range map[string]Sync{"always": {Always: true}, "1s": {Every: time.Second}, "100ms": {Every: 100 * time.Millisecond}} {
		if got, err := ParseSync(in); err != nil || got != want || got.String() != in {
			t.Errorf("ParseSync(%q): got %v (%q), %v, want %v", in, got, got.String(), err, want)
		}
	}
	for _, bad := range []string{"", "never", "0s", "-1s", "often"} {
		if _, err := ParseSync(bad); err == nil || !strings.Contains(err.Error(), "always or an interval") {
			t.Errorf("ParseSync(%q): got %v, want an error saying what it takes", bad, err)
		}
	}
}
