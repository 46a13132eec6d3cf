package runner

import (
	"io"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestConfigDefaults(t *testing.T) {
	got, err := Config{}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	want := Config{
		Environ:      os.Environ(),
		Output:       os.Stderr,
		ReadyTimeout: 30 * time.Second,
		StopGrace:    10 * time.Second,
		MinBackoff:   100 * time.Millisecond,
		MaxBackoff:   10 * time.Second,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
}

func TestConfigKeepsValues(t *testing.T) {
	in := Config{
		Environ: []string{}, Output: io.Discard, Color: true,
		ReadyTimeout: time.Second, StopGrace: 2 * time.Second,
		MinBackoff: time.Millisecond, MaxBackoff: time.Minute,
	}
	got, err := in.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, in) {
		t.Errorf("got %+v, want %+v", got, in)
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"ready timeout", Config{ReadyTimeout: -time.Second}, "ReadyTimeout: -1s is negative"},
		{"stop grace", Config{StopGrace: -time.Second}, "StopGrace: -1s is negative"},
		{"backoff order", Config{MinBackoff: time.Minute, MaxBackoff: time.Second}, "MinBackoff: 1m0s is greater than MaxBackoff 1s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got error %v, want one containing %q", err, tt.want)
			}
		})
	}
}
