package function

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
)

func TestLineHandler(t *testing.T) {
	tests := []struct {
		name string
		log  func(*slog.Logger)
		want string
	}{
		{"info is the bare message", func(l *slog.Logger) { l.Info(`Published data: {"orderId":1}`) },
			`Published data: {"orderId":1}` + "\n"},
		{"attributes follow", func(l *slog.Logger) { l.Info("connected", "addr", "127.0.0.1:50001", "n", 2) },
			"connected addr=127.0.0.1:50001 n=2\n"},
		{"warn is prefixed", func(l *slog.Logger) { l.Warn("order not accepted", "ce.id", "a b") },
			`WARN order not accepted ce.id="a b"` + "\n"},
		{"with attrs and group", func(l *slog.Logger) { l.With("function", "order-processor").WithGroup("g").Error("x", "k", 1) },
			"ERROR x function=order-processor g.k=1\n"},
		{"debug is dropped", func(l *slog.Logger) { l.Debug("noise") }, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			tt.log(newLogger(&buf, "text"))
			if got := buf.String(); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestJSONLogger(t *testing.T) {
	var buf bytes.Buffer
	newLogger(&buf, "json").Info("Published data: {}")
	if got := buf.String(); !strings.Contains(got, `"msg":"Published data: {}"`) {
		t.Errorf("got %q, want a JSON record with the message", got)
	}
}
