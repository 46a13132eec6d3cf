package runner

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"os"
	"time"
)

// Config configures a Runner. The zero value is usable: New fills in the
// defaults documented on each field.
type Config struct {
	// Environ is the environment processes inherit and that
	// {{ env:VAR }} templates read. Default: os.Environ().
	Environ []string
	// Output receives the output of every function process, line by line,
	// each line prefixed with the function's name. Default: os.Stderr.
	Output io.Writer
	// Color colors the prefixes with ANSI escapes; set it when Output is a
	// terminal.
	Color bool
	// ReadyTimeout bounds the wait for a new process to answer 200 on
	// /health/readiness. Default: 30s.
	ReadyTimeout time.Duration
	// StopGrace is how long Instance.Stop waits after SIGTERM when its
	// context has no deadline. Default: 10s.
	StopGrace time.Duration
	// MinBackoff and MaxBackoff bound the delay before restarting a process
	// that exited. Defaults: 100ms and 10s.
	MinBackoff, MaxBackoff time.Duration
	// CPUProfileDir, when set, has every function process write a CPU
	// profile (pprof) of its life to <dir>/<function>-<pid>.pprof, written
	// when it stops (FUNCD_CPU_PROFILE, read by the generated main).
	CPUProfileDir string
}

// withDefaults returns c with every unset field set to its default.
func (c Config) withDefaults() (Config, error) {
	if c.Environ == nil {
		c.Environ = os.Environ()
	}
	c.Output = cmp.Or[io.Writer](c.Output, os.Stderr)
	c.ReadyTimeout = cmp.Or(c.ReadyTimeout, 30*time.Second)
	c.StopGrace = cmp.Or(c.StopGrace, 10*time.Second)
	c.MinBackoff = cmp.Or(c.MinBackoff, 100*time.Millisecond)
	c.MaxBackoff = cmp.Or(c.MaxBackoff, 10*time.Second)
	return c, c.Validate()
}

// Validate reports a configuration that cannot work.
func (c Config) Validate() error {
	var errs []error
	for _, d := range []struct {
		name string
		d    time.Duration
	}{
		{"ReadyTimeout", c.ReadyTimeout}, {"StopGrace", c.StopGrace},
		{"MinBackoff", c.MinBackoff}, {"MaxBackoff", c.MaxBackoff},
	} {
		if d.d < 0 {
			errs = append(errs, fmt.Errorf("%s: %v is negative", d.name, d.d))
		}
	}
	if c.MaxBackoff > 0 && c.MinBackoff > c.MaxBackoff {
		errs = append(errs, fmt.Errorf("MinBackoff: %v is greater than MaxBackoff %v", c.MinBackoff, c.MaxBackoff))
	}
	return errors.Join(errs...)
}
