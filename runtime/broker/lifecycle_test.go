package broker

import (
	"runtime"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
)

// TestDurable restarts the broker on the same store: what was published
// before is still in the stream.
func TestDurable(t *testing.T) {
	dir := t.TempDir()
	b, err := Start(Config{StoreDir: dir, Port: -1})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.EnsureStream("orders.eu", Limits{}); err != nil {
		t.Fatal(err)
	}
	nc, err := b.Connect()
	if err != nil {
		t.Fatal(err)
	}
	js, err := nc.JetStream()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := js.Publish("orders.eu", []byte(`{"id":1}`)); err != nil {
		t.Fatalf("publish: %v", err)
	}
	nc.Close()
	if err := b.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	b = start(t, dir)
	if err := b.EnsureStream("orders.eu", Limits{}); err != nil { // finds the existing stream
		t.Fatalf("EnsureStream after restart: %v", err)
	}
	js2 := connect(t, b)
	info, err := js2.StreamInfo(StreamName("orders.eu"))
	if err != nil {
		t.Fatalf("StreamInfo after restart: %v", err)
	}
	if info.State.Msgs != 1 {
		t.Fatalf("got %d messages after restart, want 1", info.State.Msgs)
	}
	msg, err := js2.GetMsg(StreamName("orders.eu"), info.State.FirstSeq)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(msg.Data), `{"id":1}`; got != want || msg.Subject != "orders.eu" {
		t.Errorf("got %s %s, want orders.eu %s", msg.Subject, got, want)
	}
}

// TestCloseReleases checks, loosely, that Close leaves no goroutines behind
// and frees the port.
func TestCloseReleases(t *testing.T) {
	before := runtime.NumGoroutine()
	for range 3 {
		b, err := Start(Config{StoreDir: t.TempDir(), Port: -1})
		if err != nil {
			t.Fatal(err)
		}
		if err := b.EnsureStream("orders", Limits{}); err != nil {
			t.Fatal(err)
		}
		url := b.URL()
		if err := b.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		if nc, err := nats.Connect(url, nats.NoReconnect(), nats.Timeout(time.Second)); err == nil {
			nc.Close()
			t.Errorf("connect to %s after Close: got a connection, want an error", url)
		}
	}
	const slack = 5 // timers and the runtime's own goroutines
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before+slack && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if got := runtime.NumGoroutine(); got > before+slack {
		buf := make([]byte, 1<<16)
		t.Errorf("got %d goroutines after Close, want at most %d:\n%s", got, before+slack, buf[:runtime.Stack(buf, true)])
	}
}

func TestCloseTwice(t *testing.T) {
	b, err := Start(Config{StoreDir: t.TempDir(), Port: -1})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		if err := b.Close(); err != nil {
			t.Errorf("Close #%d: %v", i+1, err)
		}
	}
}
