package runner

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"testing"
)

func TestLineWriter(t *testing.T) {
	var out bytes.Buffer
	c := &console{w: &out}
	c.fit("order-processor")
	w := &lineWriter{console: c, prefix: c.prefix("echo"), tail: new(tail)}
	for _, chunk := range []string{"hel", "lo\nwor", "ld\r\n\n", "no newline"} {
		if n, err := w.Write([]byte(chunk)); n != len(chunk) || err != nil {
			t.Fatalf("Write(%q) = %d, %v", chunk, n, err)
		}
	}
	w.flush()
	want := "echo            | hello\n" +
		"echo            | world\n" +
		"echo            | \n" +
		"echo            | no newline\n"
	if got := out.String(); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	if got, want := w.tail.String(), "hello\nworld\n\nno newline"; got != want {
		t.Errorf("got tail %q, want %q", got, want)
	}
}

func TestLineWriterSplitsLongLines(t *testing.T) {
	var out bytes.Buffer
	w := &lineWriter{console: &console{w: &out}, prefix: "f | ", tail: new(tail)}
	w.Write(bytes.Repeat([]byte("x"), maxLine+10))
	w.flush()
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != 2 || len(lines[0]) != len("f | ")+maxLine || len(lines[1]) != len("f | ")+10 {
		t.Errorf("got %d lines of lengths %d..., want 2 lines of %d and %d", len(lines), len(lines[0]), maxLine+4, 14)
	}
}

func TestTailKeepsLastLines(t *testing.T) {
	var tl tail
	for i := range tailLines + 5 {
		tl.add(fmt.Appendf(nil, "line %d", i))
	}
	lines := strings.Split(tl.String(), "\n")
	if len(lines) != tailLines || lines[0] != "line 5" {
		t.Errorf("got %d lines starting %q, want %d starting %q", len(lines), lines[0], tailLines, "line 5")
	}
}

func TestConsoleColor(t *testing.T) {
	c := &console{color: true}
	c.fit("a")
	p := c.prefix("a")
	if !strings.HasPrefix(p, "\x1b[") || !strings.HasSuffix(p, "a | \x1b[0m") {
		t.Errorf("got prefix %q, want an ANSI-colored \"a | \"", p)
	}
	if p != c.prefix("a") {
		t.Error("a name's color is not stable")
	}
}

// Lines written concurrently by many processes are never torn.
func TestConsoleNoInterleaving(t *testing.T) {
	var out syncBuffer
	c := &console{w: &out}
	names := []string{"alpha", "beta", "gamma"}
	for _, n := range names {
		c.fit(n)
	}
	var wg sync.WaitGroup
	for _, n := range names {
		w := &lineWriter{console: c, prefix: c.prefix(n), tail: new(tail)}
		wg.Go(func() {
			for i := range 200 {
				// Lines arrive in pieces that straddle writes.
				w.Write([]byte(fmt.Sprintf("%s-%d-", n, i)))
				w.Write([]byte("end\n"))
			}
		})
	}
	wg.Wait()
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != 600 {
		t.Fatalf("got %d lines, want 600", len(lines))
	}
	for _, l := range lines {
		name, rest, _ := strings.Cut(l, " | ")
		name = strings.TrimSpace(name)
		if !strings.HasPrefix(rest, name+"-") || !strings.HasSuffix(rest, "-end") {
			t.Errorf("torn line %q", l)
		}
	}
}
