package main

import (
	"slices"
	"testing"
)

func TestReadOnlyMappings(t *testing.T) {
	const smaps = `00400000-0141f000 r-xp 00000000 fe:00 99 /opt/bin/funcd
Size:              16508 kB
Anonymous:             0 kB
VmFlags: rd ex mr mw me dw sd
0141f000-0265f000 r--p 0101f000 fe:00 99 /opt/bin/funcd
Anonymous:             0 kB
0265f000-0270a000 rw-p 0225f000 fe:00 99 /opt/bin/funcd
Anonymous:           380 kB
0270a000-0270b000 r--p 0230a000 fe:00 99 /opt/bin/funcd
Anonymous:             4 kB
0270b000-0270c000 r--p 00000000 fe:00 98 /opt/bin/funcd-other
Anonymous:             0 kB
0270c000-0270d000 r--p 00000000 fe:00 97 /opt/my funcd (deleted)
Anonymous:             0 kB
7f0000000000-7f0000021000 rw-p 00000000 00:00 0
Anonymous:           132 kB
`
	tests := []struct {
		name, path string
		want       []mapping
	}{
		{name: "code and read-only data, not written or copied pages", path: "/opt/bin/funcd",
			want: []mapping{{0x400000, 0x141f000}, {0x141f000, 0x265f000}}},
		{name: "a replaced executable, spaces in its path", path: "/opt/my funcd (deleted)",
			want: []mapping{{0x270c000, 0x270d000}}},
		{name: "not mapped", path: "/opt/bin/other", want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := readOnlyMappings([]byte(smaps), tt.path); !slices.Equal(got, tt.want) {
				t.Errorf("got %x, want %x", got, tt.want)
			}
		})
	}
}

// written is in the executable's writable data, which must keep what was
// written to it.
var written = [4096]byte{1}

// TestDropExecutablePages drops the test binary's own read-only mappings;
// its code and data keep working afterwards.
func TestDropExecutablePages(t *testing.T) {
	written[100] = 7
	n, err := dropExecutablePages()
	if err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		t.Error("dropped no mapping, want the executable's code and read-only data")
	}
	if written[0] != 1 || written[100] != 7 {
		t.Errorf("written data: got %d and %d, want 1 and 7", written[0], written[100])
	}
	if got := slices.Index([]string{"a", "b"}, "b"); got != 1 {
		t.Errorf("code after the drop: got %d, want 1", got)
	}
}
