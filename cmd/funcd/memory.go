package main

import "runtime/debug"

// releaseMemory hands back to the system what funcd holds without using
// it: the Go runtime's unused pages (debug.FreeOSMemory, after a
// collection) and funcd's mappings of its own executable's pages
// (dropExecutablePages). funcd up runs it once it is ready and after each
// burst (platform.Config.ReleaseMemory).
func releaseMemory() {
	debug.FreeOSMemory()
	_, _ = dropExecutablePages() // best effort: the pages stay mapped
}
