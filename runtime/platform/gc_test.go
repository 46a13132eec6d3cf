package platform

import (
	"math"
	"runtime/debug"
	"testing"
)

func TestTuneGC(t *testing.T) {
	before := debug.SetGCPercent(100)
	defer debug.SetGCPercent(before)
	beforeLimit := debug.SetMemoryLimit(math.MaxInt64)
	defer debug.SetMemoryLimit(beforeLimit)

	restore := TuneGC(func(string) string { return "" })
	if got := debug.SetGCPercent(-1); got != GCPercent {
		t.Errorf("GC percent %d, want %d", got, GCPercent)
	}
	debug.SetGCPercent(GCPercent)
	if got := debug.SetMemoryLimit(-1); got != MemoryLimit {
		t.Errorf("memory limit %d, want %d", got, MemoryLimit)
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
	restore = TuneGC(func(string) string { return "50" })
	defer restore()
	if got := debug.SetGCPercent(-1); got != 100 {
		t.Errorf("with GOGC set: GC percent %d, want it untouched (100)", got)
	}
	debug.SetGCPercent(100)
	if got := debug.SetMemoryLimit(-1); got != math.MaxInt64 {
		t.Errorf("with GOMEMLIMIT set: memory limit %d, want it untouched", got)
	}
}
