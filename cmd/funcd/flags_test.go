package main

import (
	"flag"
	"io"
	"testing"
)

func TestFlagSet(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want bool
	}{
		{nil, false},
		{[]string{"--idle", "0s"}, true},
		{[]string{"--idle=5s"}, true},
		{[]string{"--watch=false"}, false},
	} {
		fs := flag.NewFlagSet("up", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		fs.Duration("idle", 0, "")
		fs.Bool("watch", true, "")
		if err := fs.Parse(tc.args); err != nil {
			t.Fatal(err)
		}
		if got := flagSet(fs, "idle"); got != tc.want {
			t.Errorf("flagSet(%q, idle) = %v, want %v", tc.args, got, tc.want)
		}
	}
}
