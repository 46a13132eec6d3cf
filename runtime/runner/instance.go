package runner

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/funcd/funcd/runtime/funcbuild"
)

// errStopped stops a restart that races with Stop.
var errStopped = errors.New("instance stopped")

// Instance is a running function: one process at a time, restarted with
// capped exponential backoff whenever it exits, until Stop. Its URL does not
// change across restarts. An Instance is safe for concurrent use.
type Instance struct {
	fn     funcbuild.Function
	url    string
	spawn  func() (*process, error)
	logger *slog.Logger
	cfg    *Config
	// kind names what runs in logs ("function", "app"); once ends the
	// supervision when the process exits with status 0 (an app that did
	// its work) instead of restarting it.
	kind string
	once bool
	// restarted, when set, is called after each restart.
	restarted func()

	mu       sync.Mutex
	proc     *process
	stopped  bool
	restarts int

	stop     chan struct{} // closed by Stop
	done     chan struct{} // closed when the supervisor returns
	stopOnce sync.Once
}

// Function returns the function this instance runs.
func (i *Instance) Function() funcbuild.Function { return i.fn }

// URL returns the base URL of the function, e.g. "http://127.0.0.1:40123".
// CloudEvents may be posted to any path under it.
func (i *Instance) URL() string { return i.url }

// PID returns the process id of the current process.
func (i *Instance) PID() int {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.proc.pid()
}

// Restarts returns how many times the process has been restarted.
func (i *Instance) Restarts() int {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.restarts
}

// Done is closed once the instance has been stopped and its supervisor has
// returned.
func (i *Instance) Done() <-chan struct{} { return i.done }

// Stop ends the instance: SIGTERM to the process group, then SIGKILL when ctx
// is done or, if ctx has no deadline, after Config.StopGrace. It returns once
// the process is reaped and no goroutine of the instance is left. The error
// reports a process that had to be killed. Stop may be called more than once.
func (i *Instance) Stop(ctx context.Context) error {
	i.mu.Lock()
	i.stopped = true
	p := i.proc
	i.mu.Unlock()
	i.stopOnce.Do(func() { close(i.stop) })
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, i.cfg.StopGrace)
		defer cancel()
	}
	err := p.stop(ctx)
	<-i.done
	if err != nil {
		return fmt.Errorf("stop %s: %w", i.fn.Name, err)
	}
	return nil
}

// supervise restarts the process whenever it exits, until Stop.
func (i *Instance) supervise(p *process) {
	defer close(i.done)
	backoff := i.cfg.MinBackoff
	for {
		select {
		case <-i.stop:
			return
		case <-p.done:
		}
		if i.once && p.cmd.ProcessState != nil && p.cmd.ProcessState.Success() {
			i.logger.Info(i.kind+" exited", i.kind, i.fn.Name, "pid", p.pid(), "exit", p.exit())
			return
		}
		if time.Since(p.started) > i.cfg.MaxBackoff {
			backoff = i.cfg.MinBackoff // it ran fine for a while
		}
		i.logger.Warn(i.kind+" exited, restarting", i.kind, i.fn.Name,
			"pid", p.pid(), "exit", p.exit(), "backoff", backoff)
		if p = i.restart(&backoff); p == nil {
			return
		}
		if i.restarted != nil {
			i.restarted()
		}
	}
}

// restart waits out the backoff and starts a new process, retrying until it
// starts or Stop is called (then it returns nil).
func (i *Instance) restart(backoff *time.Duration) *process {
	for {
		if !i.sleep(*backoff) {
			return nil
		}
		*backoff = min(*backoff*2, i.cfg.MaxBackoff)
		p, err := i.respawn()
		switch {
		case errors.Is(err, errStopped):
			return nil
		case err != nil:
			i.logger.Error(i.kind+" restart failed", i.kind, i.fn.Name, "err", err)
			continue
		}
		i.logger.Info(i.kind+" restarted", i.kind, i.fn.Name, "pid", p.pid())
		return p
	}
}

// respawn starts a new process unless Stop was called. Holding the lock
// while starting means Stop either sees the new process or prevents it.
func (i *Instance) respawn() (*process, error) {
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.stopped {
		return nil, errStopped
	}
	p, err := i.spawn()
	if err != nil {
		return nil, err
	}
	i.proc = p
	i.restarts++
	return p, nil
}

// sleep waits d, reporting false if Stop was called meanwhile.
func (i *Instance) sleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-i.stop:
		return false
	case <-t.C:
		return true
	}
}
