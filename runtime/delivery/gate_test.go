package delivery

import (
	"testing"
	"time"
)

func TestGate(t *testing.T) {
	var g Gate
	if !g.Enter() {
		t.Fatal("Enter on an open gate = false, want true")
	}
	done := g.Close()
	if g.Enter() {
		t.Error("Enter on a closed gate = true, want false")
	}
	select {
	case <-done:
		t.Fatal("Close's channel closed with a delivery in flight")
	case <-time.After(10 * time.Millisecond):
	}
	g.Leave()
	select {
	case <-done:
	case <-time.After(time.Second):
		t.Fatal("Close's channel still open after the last Leave")
	}
}
