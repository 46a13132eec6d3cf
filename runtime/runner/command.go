package runner

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/funcd/funcd/runtime/funcbuild"
)

// Command is a program run as given, not built: a Dapr app's command.
type Command struct {
	// Name prefixes its output and names it in logs (the app id).
	Name string
	// Args are the program and its arguments.
	Args []string
	// Dir is the folder it runs in.
	Dir string
	// Env is added to the runner's environment and OTEL_SERVICE_NAME=Name;
	// later values win.
	Env map[string]string
	// Ready, when set, is polled until it reports true; Run fails when the
	// process exits first or ctx ends. Without it Run returns once the
	// process started.
	Ready func(ctx context.Context) bool
	// ReadyTimeout bounds the wait for Ready (default Config.ReadyTimeout):
	// a command such as `go run .` may compile first.
	ReadyTimeout time.Duration
	// Restarted, when set, is called after each restart, once the new
	// process started (not once it is ready); it must not block.
	Restarted func()
}

// Run starts c and waits until it is ready. The process is restarted with
// backoff when it fails (exits with a non-zero status or a signal), until
// Instance.Stop; one that exits with status 0 has done its work and is not
// restarted. ctx bounds the wait for readiness only.
func (r *Runner) Run(ctx context.Context, c Command) (*Instance, error) {
	if c.Name == "" || len(c.Args) == 0 || c.Args[0] == "" {
		return nil, errors.New("run: a command needs a name and a program")
	}
	r.console.fit(c.Name)
	extra := make([]string, 0, len(c.Env))
	for _, k := range slices.Sorted(maps.Keys(c.Env)) {
		extra = append(extra, k+"="+c.Env[k])
	}
	environ := slices.Concat(r.cfg.Environ, serviceName(c.Name), extra)
	i := &Instance{
		fn:        funcbuild.Function{Name: c.Name, Dir: c.Dir},
		logger:    r.logger,
		cfg:       &r.cfg,
		kind:      "app",
		once:      true,
		restarted: c.Restarted,
		stop:      make(chan struct{}),
		done:      make(chan struct{}),
	}
	i.spawn = func() (*process, error) {
		return startProcess(c.Args, c.Dir, environ, r.console, r.console.prefix(c.Name))
	}
	var err error
	if i.proc, err = i.spawn(); err != nil {
		return nil, fmt.Errorf("start %s: %w", c.Name, err)
	}
	if c.Ready != nil {
		timeout := c.ReadyTimeout
		if timeout <= 0 {
			timeout = r.cfg.ReadyTimeout
		}
		if err := r.waitCommand(ctx, i, c.Ready, timeout); err != nil {
			return nil, err
		}
	}
	go i.supervise(i.proc)
	return i, nil
}

// waitCommand polls ready until it holds; on failure it kills the process.
func (r *Runner) waitCommand(ctx context.Context, i *Instance, ready func(context.Context) bool, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	delay := firstPoll
	for {
		if ready(ctx) {
			return nil
		}
		t := time.NewTimer(delay)
		select {
		case <-i.proc.done:
			t.Stop()
			return fmt.Errorf("start %s (pid %d): %w (%s); last output:\n%s", i.fn.Name, i.proc.pid(), errExited, i.proc.exit(), i.proc.tail)
		case <-ctx.Done():
			t.Stop()
			i.proc.kill()
			return fmt.Errorf("start %s (pid %d): not ready: %w; last output:\n%s", i.fn.Name, i.proc.pid(), context.Cause(ctx), i.proc.tail)
		case <-t.C:
		}
		delay = min(delay*3/2, maxPoll*4)
	}
}
