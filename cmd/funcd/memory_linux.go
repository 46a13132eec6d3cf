package main

import (
	"bufio"
	"bytes"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// dropExecutablePages removes the read-only mappings of funcd's executable
// (its code and read-only data) from funcd's page tables (madvise
// MADV_DONTNEED) and returns how many mappings it dropped. The pages stay
// in the page cache, shared and reclaimable; those funcd runs again are
// mapped back on their first use, without reading the disk. Starting
// touches most of the executable once (every package's initialisation,
// some 30 MB of RSS), while an idle funcd runs a small part of it. A
// mapping holding a private copy of any page (Anonymous in smaps: written,
// or relocated) is left alone, since dropping it would lose that copy.
func dropExecutablePages() (int, error) {
	exe, err := os.Readlink("/proc/self/exe")
	if err != nil {
		return 0, err
	}
	smaps, err := os.ReadFile("/proc/self/smaps")
	if err != nil {
		return 0, err
	}
	dropped := 0
	for _, m := range readOnlyMappings(smaps, exe) {
		if _, _, errno := syscall.Syscall(syscall.SYS_MADVISE, m.start, m.end-m.start, syscall.MADV_DONTNEED); errno != 0 {
			return dropped, errno
		}
		dropped++
	}
	return dropped, nil
}

// mapping is an address range of /proc/self/smaps.
type mapping struct{ start, end uintptr }

// readOnlyMappings returns the mappings of path in smaps that are not
// writable and hold no private (anonymous) pages.
func readOnlyMappings(smaps []byte, path string) []mapping {
	var out []mapping
	last := false // the last mapping read is in out
	sc := bufio.NewScanner(bytes.NewReader(smaps))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		switch {
		case len(f) >= 5 && strings.Contains(f[0], "-") && len(f[1]) == 4: // a mapping's header
			lo, hi, _ := strings.Cut(f[0], "-")
			start, err1 := strconv.ParseUint(lo, 16, 64)
			end, err2 := strconv.ParseUint(hi, 16, 64)
			last = err1 == nil && err2 == nil && f[1][1] == '-' && strings.Join(f[5:], " ") == path
			if last {
				out = append(out, mapping{uintptr(start), uintptr(end)})
			}
		case last && len(f) >= 2 && f[0] == "Anonymous:" && f[1] != "0":
			out, last = out[:len(out)-1], false
		}
	}
	return out
}
