package runner

import (
	"bytes"
	"fmt"
	"hash/fnv"
	"io"
	"strings"
	"sync"
)

const (
	maxLine   = 64 << 10 // longer lines are split
	tailLines = 20       // lines of output kept for error messages
)

// colors are the ANSI foreground colors of function prefixes.
var colors = []string{"36", "33", "32", "35", "34", "31"}

// console writes whole lines from many functions to one writer, so lines of
// different functions never interleave mid-line.
type console struct {
	mu    sync.Mutex
	w     io.Writer
	color bool
	width int // prefix name width, grows with the longest name seen
}

// fit widens the name column for name.
func (c *console) fit(name string) {
	c.mu.Lock()
	c.width = max(c.width, len(name))
	c.mu.Unlock()
}

// prefix is name padded to the current width plus " | ", colored if enabled.
func (c *console) prefix(name string) string {
	c.mu.Lock()
	p := fmt.Sprintf("%-*s | ", c.width, name)
	c.mu.Unlock()
	if !c.color {
		return p
	}
	h := fnv.New32a()
	h.Write([]byte(name))
	return "\x1b[" + colors[h.Sum32()%uint32(len(colors))] + "m" + p + "\x1b[0m"
}

func (c *console) writeLine(prefix string, line []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	// A failing output must not stop the function: errors are dropped.
	_, _ = io.WriteString(c.w, prefix+string(line)+"\n")
}

// tail keeps the last lines of a process's output for error messages.
type tail struct {
	mu    sync.Mutex
	lines []string
}

func (t *tail) add(line []byte) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.lines) == tailLines {
		t.lines = t.lines[1:]
	}
	t.lines = append(t.lines, string(line))
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return strings.Join(t.lines, "\n")
}

// lineWriter splits one output stream of a process into lines and writes
// them, prefixed, to the console. It is used by a single goroutine.
type lineWriter struct {
	console *console
	prefix  string
	tail    *tail
	buf     []byte
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.buf = append(w.buf, p...)
	rest := w.buf
	for {
		i := bytes.IndexByte(rest, '\n')
		switch {
		case i >= 0:
			w.emit(rest[:i])
			rest = rest[i+1:]
		case len(rest) >= maxLine:
			w.emit(rest[:maxLine])
			rest = rest[maxLine:]
		default:
			w.buf = w.buf[:copy(w.buf, rest)] // keep the partial line
			return len(p), nil
		}
	}
}

// flush writes a final line that had no newline.
func (w *lineWriter) flush() {
	if len(w.buf) > 0 {
		w.emit(w.buf)
		w.buf = nil
	}
}

func (w *lineWriter) emit(line []byte) {
	line = bytes.TrimSuffix(line, []byte("\r"))
	w.tail.add(line)
	w.console.writeLine(w.prefix, line)
}
