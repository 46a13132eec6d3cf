package runner

import (
	"io"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/funcd/funcd/runtime/funcbuild"
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

// A function's spans carry its own service name even when funcd's
// environment names funcd; the function's run.envs and the caller's env
// still win.
func TestEnvironServiceName(t *testing.T) {
	b, err := funcbuild.New(funcbuild.Config{CacheDir: t.TempDir()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	r, err := New(Config{Environ: []string{"OTEL_SERVICE_NAME=funcd", "PATH=/bin"}}, b, nil)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		fn   funcbuild.Function
		env  map[string]string
		want string
	}{
		{"inherited from funcd", funcbuild.Function{Name: "order-processor"}, nil, "order-processor"},
		{"run.envs", funcbuild.Function{Name: "checkout", Envs: []funcbuild.Env{{Name: "OTEL_SERVICE_NAME", Value: "shop"}}}, nil, "shop"},
		{"caller", funcbuild.Function{Name: "checkout"}, map[string]string{"OTEL_SERVICE_NAME": "given"}, "given"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			environ, _, err := r.environ(tt.fn, tt.env)
			if err != nil {
				t.Fatal(err)
			}
			if got := lastValue(environ, "OTEL_SERVICE_NAME"); got != tt.want {
				t.Errorf("OTEL_SERVICE_NAME = %q, want %q (environ %q)", got, tt.want, environ)
			}
		})
	}
}

// lastValue is the value of key in environ as a process sees it: the last one.
func lastValue(environ []string, key string) string {
	v := ""
	for _, kv := range environ {
		if k, val, ok := strings.Cut(kv, "="); ok && k == key {
			v = val
		}
	}
	return v
}
