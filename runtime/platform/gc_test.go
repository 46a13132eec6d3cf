package platform

import (
	"context"
	"slices"
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

// TestTrimAfterBurstsSettles: after a burst, memory is handed back again
// while it stays quiet, each time after twice as long, then no more; new
// traffic ends the follow-ups.
func TestTrimAfterBurstsSettles(t *testing.T) {
	tests := []struct {
		name      string
		counts    []int64 // traffic, one per tick; the last repeats
		ticks     int
		wantAfter []int
	}{
		{name: "quiet after a burst", counts: []int64{0, 3, 7}, ticks: 400,
			wantAfter: []int{3, 3 + 4, 3 + 12, 3 + 28, 3 + 60, 3 + 124}},
		{name: "traffic again ends the follow-ups", counts: []int64{0, 3, 7, 7, 7, 7, 7, 7, 7, 7, 8}, ticks: 12,
			wantAfter: []int{3, 7, 11}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tick := 0
			ctx, cancel := context.WithCancel(t.Context())
			traffic := func() int64 {
				defer func() { tick++ }()
				if tick >= tt.ticks {
					cancel()
				}
				return tt.counts[min(tick, len(tt.counts)-1)]
			}
			var got []int
			free := func() {
				if tick <= tt.ticks { // the loop may see ticks after cancel
					got = append(got, tick-1)
				}
			}
			trimAfterBursts(ctx, time.Microsecond, traffic, free)
			if !slices.Equal(got, tt.wantAfter) {
				t.Errorf("got frees after ticks %v, want after %v", got, tt.wantAfter)
			}
		})
	}
}
