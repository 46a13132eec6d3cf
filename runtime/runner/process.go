package runner

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	neturl "net/url"
	"os/exec"
	"sync"
	"syscall"
	"time"
)

// waitDelay bounds how long a reaped process's output pipes may stay open
// (held by a grandchild) before Wait closes them.
const waitDelay = 2 * time.Second

// process is one run of a function binary.
type process struct {
	cmd     *exec.Cmd
	tail    *tail
	started time.Time
	done    chan struct{} // closed once the process is reaped and its output flushed
	err     error         // Wait's result; read after done

	mu     sync.Mutex
	exited bool // set before the pid is reaped: no signal after it
}

// startProcess runs argv (the program, then its arguments) in dir with env,
// its output written to c with prefix. A program named by a relative path
// is found in dir; a bare name is looked up in PATH.
func startProcess(argv []string, dir string, env []string, c *console, prefix string) (*process, error) {
	t := new(tail)
	stdout := &lineWriter{console: c, prefix: prefix, tail: t}
	stderr := &lineWriter{console: c, prefix: prefix, tail: t}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir, cmd.Env = dir, env
	cmd.Stdout, cmd.Stderr = stdout, stderr
	cmd.WaitDelay = waitDelay
	configure(cmd)
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &process{cmd: cmd, tail: t, started: time.Now(), done: make(chan struct{})}
	go func() {
		p.err = reap(cmd, p.markExited)
		stdout.flush()
		stderr.flush()
		close(p.done)
	}()
	return p, nil
}

func (p *process) pid() int { return p.cmd.Process.Pid }

func (p *process) markExited() {
	p.mu.Lock()
	p.exited = true
	p.mu.Unlock()
}

// signal sends sig to the process (its group on Linux) unless it has exited,
// so a recycled pid is never signalled.
func (p *process) signal(sig syscall.Signal) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.exited {
		return nil
	}
	return signal(p.cmd, sig)
}

// exit describes how the process ended; valid after done.
func (p *process) exit() string {
	if s := p.cmd.ProcessState; s != nil {
		return s.String()
	}
	return fmt.Sprint(p.err)
}

// stop sends SIGTERM and, once ctx is done, SIGKILL. It returns when the
// process is reaped; the error says whether SIGKILL was needed.
func (p *process) stop(ctx context.Context) error {
	if err := p.signal(syscall.SIGTERM); err == nil {
		select {
		case <-p.done:
			return nil
		case <-ctx.Done():
		}
	}
	err := p.signal(syscall.SIGKILL)
	<-p.done
	if err != nil {
		return fmt.Errorf("kill pid %d: %w", p.pid(), err)
	}
	return fmt.Errorf("pid %d ignored SIGTERM and was killed: %w", p.pid(), ctx.Err())
}

// kill ends the process at once and waits until it is reaped.
func (p *process) kill() {
	_ = p.signal(syscall.SIGKILL) // only fails if it is already gone
	<-p.done
}

// freeAddr returns a loopback address with a port free at the time of the call.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// Readiness: a Go function listens a few milliseconds after it starts, the
// moment a cold start waits for. Until then a connect to its address is
// refused at once, for microseconds of CPU, so the address is dialled every
// dialPoll; once it accepts, /health/readiness is polled, tight first: a
// func-go function listens before its Start has run (in a goroutine of its
// own), and one that reports readiness answers 503 until Start is done,
// commonly within a millisecond or two.
//
// While a function starts funcd is mostly idle, and then Go's timers fire
// no sooner than about a millisecond (the runtime's poller waits in epoll
// with millisecond timeouts): these 250µs polls come some 1.1ms apart.
// Sleeping them on the thread instead (nanosleep, 0.35ms apart) was tried:
// cold starts got no faster (p50 through the gateway 11.06, 10.61, 11.96ms
// against 10.05, 11.21, 10.27ms, alternated), the polls taking CPU from the
// starting process on 2 cores.
const (
	dialPoll  = 250 * time.Microsecond
	dialTight = 100 * time.Millisecond
	firstPoll = 250 * time.Microsecond
	maxPoll   = 50 * time.Millisecond
)

// errExited reports that a process exited before it became ready.
var errExited = errors.New("exited before it was ready")

// waitReady waits until url answers 200, ctx is done or p exits: first
// until url's host accepts connections, then polling url.
func waitReady(ctx context.Context, client *http.Client, url string, p *process) error {
	if err := waitListening(ctx, url, p); err != nil {
		return err
	}
	return poll(ctx, p, "not ready", firstPoll, func(d time.Duration) time.Duration { return min(d*3/2, maxPoll) },
		func() bool { return probe(ctx, client, url) })
}

// waitListening dials the host of url until it accepts a connection, ctx is
// done or p exits: every dialPoll for the first dialTight, then less and
// less often, up to maxPoll, for a function that takes longer.
func waitListening(ctx context.Context, url string, p *process) error {
	u, err := neturl.Parse(url)
	if err != nil {
		return err
	}
	var d net.Dialer
	began := time.Now()
	next := func(delay time.Duration) time.Duration {
		if time.Since(began) > dialTight {
			return min(delay*2, maxPoll)
		}
		return delay
	}
	return poll(ctx, p, "not listening", dialPoll, next, func() bool {
		c, err := d.DialContext(ctx, "tcp", u.Host)
		if err == nil {
			c.Close()
		}
		return err == nil
	})
}

// poll calls try at once and then after each delay (the first, then what
// next makes of the last) until it holds, ctx is done or p exits; notYet
// starts the error of a ctx that ends first.
func poll(ctx context.Context, p *process, notYet string, delay time.Duration, next func(time.Duration) time.Duration, try func() bool) error {
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-p.done:
			return fmt.Errorf("%w (%s)", errExited, p.exit())
		case <-ctx.Done():
			return fmt.Errorf("%s: %w", notYet, context.Cause(ctx))
		case <-timer.C:
		}
		if try() {
			return nil
		}
		timer.Reset(delay)
		delay = next(delay)
	}
}

func probe(ctx context.Context, client *http.Client, url string) bool {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return false
	}
	resp, err := client.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}
