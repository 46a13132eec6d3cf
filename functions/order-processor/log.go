package function

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"sync"
	"time"
)

// newLogger returns the function's logger: format "json" selects slog's JSON
// handler, anything else the lineHandler.
func newLogger(w io.Writer, format string) *slog.Logger {
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, nil))
	}
	return slog.New(newLineHandler(w))
}

// lineHandler writes one readable line per record: the message exactly as
// logged, then the attributes as key=value. Records above INFO get their
// level as a prefix. There is no timestamp: whoever collects stdout (the
// funcd process manager, kubectl logs) adds its own.
type lineHandler struct {
	mu    *sync.Mutex
	w     io.Writer
	buf   *bytes.Buffer
	attrs slog.Handler // formats attributes only, into buf
}

func newLineHandler(w io.Writer) *lineHandler {
	buf := new(bytes.Buffer)
	drop := func(groups []string, a slog.Attr) slog.Attr {
		if len(groups) == 0 && (a.Key == slog.LevelKey || a.Key == slog.MessageKey) {
			return slog.Attr{}
		}
		return a
	}
	attrs := slog.NewTextHandler(buf, &slog.HandlerOptions{ReplaceAttr: drop})
	return &lineHandler{mu: new(sync.Mutex), w: w, buf: buf, attrs: attrs}
}

// Enabled reports whether the level is INFO or above.
func (h *lineHandler) Enabled(_ context.Context, l slog.Level) bool {
	return l >= slog.LevelInfo
}

// Handle writes the record as one line.
func (h *lineHandler) Handle(ctx context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.buf.Reset()
	if r.Level > slog.LevelInfo {
		h.buf.WriteString(r.Level.String() + " ")
	}
	h.buf.WriteString(r.Message)
	line := bytes.Clone(h.buf.Bytes())

	h.buf.Reset()
	bare := slog.NewRecord(time.Time{}, r.Level, "", 0) // zero time: no time attr
	r.Attrs(func(a slog.Attr) bool { bare.AddAttrs(a); return true })
	if err := h.attrs.Handle(ctx, bare); err != nil {
		return err
	}
	if attrs := bytes.TrimSpace(h.buf.Bytes()); len(attrs) > 0 {
		line = append(append(line, ' '), attrs...)
	}
	_, err := h.w.Write(append(line, '\n'))
	return err
}

// WithAttrs returns a handler that adds attrs to every line.
func (h *lineHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	c := *h
	c.attrs = h.attrs.WithAttrs(attrs)
	return &c
}

// WithGroup returns a handler that qualifies later attribute keys with name.
func (h *lineHandler) WithGroup(name string) slog.Handler {
	c := *h
	c.attrs = h.attrs.WithGroup(name)
	return &c
}
