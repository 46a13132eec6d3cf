package main

import (
	"math"
	"runtime/debug"
	"testing"

	"github.com/funcd/funcd/runtime/platform"
)

func TestTuneGC(t *testing.T) {
	before := debug.SetGCPercent(100)
	defer debug.SetGCPercent(before)
	beforeLimit := debug.SetMemoryLimit(math.MaxInt64)
	defer debug.SetMemoryLimit(beforeLimit)

	restore := tuneGC(func(string) string { return "" })
	if got := debug.SetGCPercent(-1); got != platform.GCPercent {
		t.Errorf("GC percent %d, want %d", got, platform.GCPercent)
	}
	debug.SetGCPercent(platform.GCPercent)
	if got := debug.SetMemoryLimit(-1); got != platform.MemoryLimit {
		t.Errorf("memory limit %d, want %d", got, platform.MemoryLimit)
	}
	restore()
	if got := debug.SetGCPercent(-1); got != 100 {
		t.Errorf("after restore: GC percent %d, want 100", got)
	}
	debug.SetGCPercent(100)
	if got := debug.SetMemoryLimit(-1); got != math.MaxInt64 {
		t.Errorf("after restore: memory limit %d, want none", got)
	}

	// The user's GOGC and GOMEMLIMIT win.
	restore = tuneGC(func(string) string { return "50" })
	defer restore()
	if got := debug.SetGCPercent(-1); got != 100 {
		t.Errorf("with GOGC set: GC percent %d, want it untouched (100)", got)
	}
	debug.SetGCPercent(100)
	if got := debug.SetMemoryLimit(-1); got != math.MaxInt64 {
		t.Errorf("with GOMEMLIMIT set: memory limit %d, want it untouched", got)
	}
}
