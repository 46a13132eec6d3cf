package main

import (
	"runtime/debug"

	"github.com/funcd/funcd/runtime/platform"
)

// tuneGC applies platform.GCPercent and platform.MemoryLimit where getenv("GOGC") and
// getenv("GOMEMLIMIT") are empty, and returns a func that restores the
// previous settings.
func tuneGC(getenv func(string) string) (restore func()) {
	percent, limit := -2, int64(-1) // -2: not changed
	if getenv("GOGC") == "" {
		percent = debug.SetGCPercent(platform.GCPercent)
	}
	if getenv("GOMEMLIMIT") == "" {
		limit = debug.SetMemoryLimit(platform.MemoryLimit)
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
