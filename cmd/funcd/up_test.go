package main

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime/trace"
	"testing"
)

func TestTraceExecution(t *testing.T) {
	if trace.IsEnabled() {
		t.Fatal("an execution trace is already running (go test -trace): this test starts its own")
	}
	path := filepath.Join(t.TempDir(), "funcd.trace")
	stop, err := traceExecution(path)
	if err != nil {
		t.Fatal(err)
	}
	if !trace.IsEnabled() {
		t.Fatal("traceExecution returned without a trace running")
	}
	done := make(chan struct{})
	go func() { close(done) }() // something to record
	<-done
	stop()
	if trace.IsEnabled() {
		t.Fatal("the trace still runs after stop")
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// runtime/trace's files begin "go 1.<minor> trace\x00".
	if !bytes.HasPrefix(b, []byte("go 1.")) || !bytes.Contains(b[:min(len(b), 32)], []byte(" trace\x00")) {
		t.Errorf("%s begins %q, want a Go execution trace's header", path, b[:min(len(b), 32)])
	}

	none, err := traceExecution("")
	if err != nil || trace.IsEnabled() {
		t.Fatalf("no path: err %v, trace running %v; want neither", err, trace.IsEnabled())
	}
	none()
}
