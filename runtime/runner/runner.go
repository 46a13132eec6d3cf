package runner

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/funcd/funcd/runtime/funcbuild"
)

// Runner starts supervised instances of functions, built by its
// funcbuild.Builder, and of other commands. A Runner is safe for concurrent
// use.
type Runner struct {
	cfg     Config
	builder *funcbuild.Builder
	logger  *slog.Logger
	console *console
	client  *http.Client // readiness probes; no idle connections
}

// New returns a Runner for cfg that starts functions built by builder,
// logging supervision events (exits and restarts, with keys function, pid
// and exit) to logger; nil discards them.
func New(cfg Config, builder *funcbuild.Builder, logger *slog.Logger) (*Runner, error) {
	if builder == nil {
		return nil, errors.New("runner: a funcbuild.Builder is required")
	}
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("runner config: %w", err)
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Runner{
		cfg:     cfg,
		builder: builder,
		logger:  logger,
		console: &console{w: cfg.Output, color: cfg.Color},
		client:  &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: time.Second},
	}, nil
}

// Align widens the prefix of output lines to fit names, so that the lines
// of functions started later line up with those of the first.
func (r *Runner) Align(names ...string) {
	for _, name := range names {
		r.console.fit(name)
	}
}

// Start builds fn unless its binary is cached, starts it on a free loopback
// port and waits until it is ready. The process gets the runner's
// environment, then OTEL_SERVICE_NAME=fn.Name, then fn's run.envs, then
// env, then LISTEN_ADDRESS; later values win. ctx bounds the build and the wait for readiness only: the
// instance runs until Instance.Stop.
func (r *Runner) Start(ctx context.Context, fn funcbuild.Function, env map[string]string) (*Instance, error) {
	r.console.fit(fn.Name)
	bin, err := r.builder.Ensure(ctx, fn)
	if err != nil {
		return nil, err
	}
	environ, addr, err := r.environ(fn, env)
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", fn.Name, err)
	}
	i := &Instance{
		fn:     fn,
		url:    "http://" + addr,
		logger: r.logger,
		cfg:    &r.cfg,
		kind:   "function",
		stop:   make(chan struct{}),
		done:   make(chan struct{}),
	}
	i.spawn = func() (*process, error) {
		return startProcess([]string{bin}, fn.Dir, environ, r.console, r.console.prefix(fn.Name))
	}
	if i.proc, err = i.spawn(); err != nil {
		return nil, fmt.Errorf("start %s: %w", fn.Name, err)
	}
	if err := r.waitReady(ctx, i); err != nil {
		return nil, err
	}
	go i.supervise(i.proc)
	return i, nil
}

// environ is the environment of fn's processes, and the address it listens on.
func (r *Runner) environ(fn funcbuild.Function, env map[string]string) ([]string, string, error) {
	fnEnv, err := fn.Environ(r.lookupEnv)
	if err != nil {
		return nil, "", err
	}
	addr, err := freeAddr()
	if err != nil {
		return nil, "", err
	}
	extra := make([]string, 0, len(env)+1)
	for _, k := range slices.Sorted(maps.Keys(env)) {
		extra = append(extra, k+"="+env[k])
	}
	extra = append(extra, "LISTEN_ADDRESS="+addr)
	if r.cfg.CPUProfileDir != "" {
		extra = append(extra, funcbuild.CPUProfileEnv+"="+filepath.Join(r.cfg.CPUProfileDir, fn.Name))
	}
	return slices.Concat(r.cfg.Environ, serviceName(fn.Name), fnEnv, extra), addr, nil
}

// serviceName names a process's spans after it: an OTEL_SERVICE_NAME set
// for funcd is funcd's own and must not make every function's spans look
// like funcd's. A value set for the process itself comes later and wins.
func serviceName(name string) []string {
	return []string{"OTEL_SERVICE_NAME=" + name}
}

// lookupEnv looks a variable up in Config.Environ; the last entry wins.
func (r *Runner) lookupEnv(key string) (string, bool) {
	for _, kv := range slices.Backward(r.cfg.Environ) {
		if k, v, ok := strings.Cut(kv, "="); ok && k == key {
			return v, true
		}
	}
	return "", false
}

// waitReady waits for the first process of i; on failure it kills it.
func (r *Runner) waitReady(ctx context.Context, i *Instance) error {
	ctx, cancel := context.WithTimeout(ctx, r.cfg.ReadyTimeout)
	defer cancel()
	err := waitReady(ctx, r.client, i.url+"/health/readiness", i.proc)
	if err == nil {
		return nil
	}
	i.proc.kill()
	return fmt.Errorf("start %s (pid %d): %w; last output:\n%s", i.fn.Name, i.proc.pid(), err, i.proc.tail)
}
