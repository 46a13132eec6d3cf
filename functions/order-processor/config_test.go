package function

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"
)

func TestLoadConfig(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		want    Config
		wantErr string
	}{
		{"defaults", nil, Config{LogFormat: "text"}, ""},
		{"json", map[string]string{"LOG_FORMAT": "json"}, Config{LogFormat: "json"}, ""},
		{"processing delay", map[string]string{"PROCESSING_DELAY": "300ms"},
			Config{LogFormat: "text", ProcessingDelay: 300 * time.Millisecond}, ""},
		{"negative delay", map[string]string{"PROCESSING_DELAY": "-1s"}, Config{}, "PROCESSING_DELAY must not be negative"},
		{"delay not a duration", map[string]string{"PROCESSING_DELAY": "soon"}, Config{}, "PROCESSING_DELAY"},
		{"unknown format", map[string]string{"LOG_FORMAT": "xml"}, Config{}, `LOG_FORMAT must be text or json, got "xml"`},
		{"empty format", map[string]string{"LOG_FORMAT": ""}, Config{}, `got ""`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			unsetenv(t, "LOG_FORMAT", "PROCESSING_DELAY")
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			got, err := loadConfig()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("got error %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("got %+v, %v, want %+v, nil", got, err, tt.want)
			}
		})
	}
}

func TestStartGatesReadiness(t *testing.T) {
	unsetenv(t, "LOG_FORMAT", "PROCESSING_DELAY")
	f := newFunction(new(syncBuffer))
	checkReady(t, f, false)
	if err := f.Start(context.Background(), nil); err != nil {
		t.Fatalf("Start: %v", err)
	}
	checkReady(t, f, true)
}

func TestStartRejectsBadConfig(t *testing.T) {
	t.Setenv("LOG_FORMAT", "yaml")
	f := newFunction(new(syncBuffer))
	if err := f.Start(context.Background(), nil); err == nil {
		t.Error("Start: got nil, want a config error")
	}
	checkReady(t, f, false)
}

func TestStartSelectsJSONLogs(t *testing.T) {
	t.Setenv("LOG_FORMAT", "json")
	logs := new(syncBuffer)
	f := newFunction(logs)
	if err := f.Start(context.Background(), nil); err != nil {
		t.Fatalf("Start: %v", err)
	}
	if _, err := f.Handle(context.Background(), orderEvent("application/json", seedOrder)); err != nil {
		t.Fatal(err)
	}
	want := `"msg":"` + strings.TrimSuffix(seedLine, "\n") + `"`
	if got := logs.String(); !strings.Contains(got, want) {
		t.Errorf("log: got %q, want it to contain %q", got, want)
	}
}

func TestNewLogsToStdout(t *testing.T) {
	if f := New(); f.out != os.Stdout {
		t.Errorf("New().out: got %v, want os.Stdout", f.out)
	}
}

func checkReady(t *testing.T, f *Function, want bool) {
	t.Helper()
	got, err := f.Ready(context.Background())
	if got != want || err != nil {
		t.Errorf("Ready: got %v, %v, want %v, nil", got, err, want)
	}
}

// unsetenv removes keys for the duration of the test.
func unsetenv(t *testing.T, keys ...string) {
	t.Helper()
	for _, k := range keys {
		t.Setenv(k, "") // restores the old value at cleanup
		if err := os.Unsetenv(k); err != nil {
			t.Fatal(err)
		}
	}
}

func TestProcessingDelay(t *testing.T) {
	unsetenv(t, "LOG_FORMAT")
	t.Setenv("PROCESSING_DELAY", "50ms")
	logs := new(syncBuffer)
	f := newFunction(logs)
	if err := f.Start(context.Background(), nil); err != nil {
		t.Fatalf("Start: %v", err)
	}
	start := time.Now()
	if _, err := f.Handle(context.Background(), orderEvent("application/json", seedOrder)); err != nil {
		t.Fatalf("Handle: %v", err)
	}
	if took := time.Since(start); took < 50*time.Millisecond {
		t.Errorf("Handle took %v, want at least 50ms", took)
	}
	if got := logs.String(); got != seedLine {
		t.Errorf("log: got %q, want %q", got, seedLine)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	reply, err := f.Handle(ctx, orderEvent("application/json", seedOrder))
	checkResult(t, reply, err, 503, "order 1 not processed: context canceled")
	if got := logs.String(); got != seedLine {
		t.Errorf("log after a cancelled order: got %q, want only %q", got, seedLine)
	}
}
