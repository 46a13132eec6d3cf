package platform

import "runtime/debug"

// The garbage collector settings funcd up runs with, unless GOGC or
// GOMEMLIMIT say otherwise. Every event allocates in the publish API, the
// broker and the binding, while the live heap stays small (the idle
// platform's whole RSS is under 40 MB), so collecting less often buys
// throughput cheaply: on 2 cores, 16 publishers through the embedded
// broker went from about 6,700 to 7,600 events/s with GOGC 400 instead of
// 100 (go test -bench Pipeline/broker=jetstream/workers=parallel). The
// memory limit makes the collector work harder, not fail, should a burst
// grow the heap towards it.
const (
	GCPercent   = 400
	MemoryLimit = 1 << 30 // bytes
)

// TuneGC applies GCPercent and MemoryLimit where getenv("GOGC") and
// getenv("GOMEMLIMIT") are empty, and returns a func that restores the
// previous settings.
func TuneGC(getenv func(string) string) (restore func()) {
	percent, limit := -2, int64(-1) // -2: not changed
	if getenv("GOGC") == "" {
		percent = debug.SetGCPercent(GCPercent)
	}
	if getenv("GOMEMLIMIT") == "" {
		limit = debug.SetMemoryLimit(MemoryLimit)
	}
	return func() {
		if percent != -2 {
			debug.SetGCPercent(percent)
		}
		if limit >= 0 {
			debug.SetMemoryLimit(limit)
		}
	}
}
