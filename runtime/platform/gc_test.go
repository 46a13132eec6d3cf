package platform

import (
	"context"
	"sync/atomic"
	"testing"
	"time"
)

// TestTrimAfterBursts: memory is handed back once when traffic stops after
// a burst, not while it goes on, not while idle, and again after the next.
func TestTrimAfterBursts(t *testing.T) {
	// Traffic counts, one per tick; frees expected after the ticks marked.
	counts := []int64{0, 0, 5, 9, 9, 9, 9, 12, 12, 12}
	wantAfter := map[int]bool{4: true, 8: true}
	var (
		tick  atomic.Int64
		frees = make(chan int64, 10)
	)
	done := make(chan struct{})
	ctx, cancel := context.WithCancel(t.Context())
	traffic := func() int64 {
		i := tick.Add(1) - 1
		if int(i) >= len(counts) {
			cancel()
			return counts[len(counts)-1]
		}
		return counts[i]
	}
	go func() {
		defer close(done)
		trimAfterBursts(ctx, time.Millisecond, traffic, func() { frees <- tick.Load() - 1 })
	}()
	<-done
	close(frees)
	var got []int64
	for f := range frees {
		got = append(got, f)
	}
	if len(got) != len(wantAfter) {
		t.Fatalf("got frees after ticks %v, want after %v", got, wantAfter)
	}
	for _, g := range got {
		if !wantAfter[int(g)] {
			t.Errorf("got a free after tick %d (traffic %v), want only after %v", g, counts, wantAfter)
		}
	}
}
