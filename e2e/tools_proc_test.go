package e2e

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// proc is a process a test started in its own process group; the test's
// cleanup ends the whole group (SIGTERM, then SIGKILL after 10s).
type proc struct {
	name string
	cmd  *exec.Cmd
	done chan struct{}
	// onLine, when set, sees each output line first; the lines it returns
	// true for are not kept.
	onLine func(string) bool

	mu    sync.Mutex
	lines []string
	err   error // Wait's result, after done
}

// startProc runs name (for logs) as argv in dir with env added to the
// test's environment.
func startProc(t testing.TB, name, dir string, env []string, argv ...string) *proc {
	t.Helper()
	return startProcLines(t, name, dir, env, nil, argv...)
}

// startProcLines is startProc with onLine seeing each output line first
// (see proc.onLine).
func startProcLines(t testing.TB, name, dir string, env []string, onLine func(string) bool, argv ...string) *proc {
	t.Helper()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = dir
	cmd.Env = append(cmd.Environ(), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	p := &proc{name: name, cmd: cmd, done: make(chan struct{}), onLine: onLine}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	go p.scan(pr)
	go func() {
		err := cmd.Wait()
		pw.Close()
		p.mu.Lock()
		p.err = err
		p.mu.Unlock()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.stop(t)
		if t.Failed() {
			t.Logf("last output of %s:\n%s", name, p.tail(40))
		}
	})
	return p
}

func (p *proc) scan(r io.Reader) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if p.onLine != nil && p.onLine(sc.Text()) {
			continue
		}
		p.mu.Lock()
		p.lines = append(p.lines, sc.Text())
		p.mu.Unlock()
	}
	_, _ = io.Copy(io.Discard, r)
}

// stop ends the process group: SIGTERM, then SIGKILL after 10s.
func (p *proc) stop(t testing.TB) {
	select {
	case <-p.done:
		return
	default:
	}
	pgid := p.cmd.Process.Pid
	_ = syscall.Kill(-pgid, syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		t.Logf("%s ignored SIGTERM for 10s; killing its process group", p.name)
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		<-p.done
	}
	_ = syscall.Kill(-pgid, syscall.SIGKILL) // children that outlived the leader
}

// output returns everything the process printed so far.
func (p *proc) output() string { return p.tail(0) }

// tail returns the last n lines (all for n <= 0).
func (p *proc) tail(n int) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	lines := p.lines
	if n > 0 && len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// matches returns the submatches of every output line matching re.
func (p *proc) matches(re *regexp.Regexp) [][]string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out [][]string
	for _, l := range p.lines {
		if m := re.FindStringSubmatch(l); m != nil {
			out = append(out, m)
		}
	}
	return out
}

// waitLine waits until a line matches re; it fails the test when the
// process exits first or the timeout passes.
func (p *proc) waitLine(t testing.TB, re *regexp.Regexp, timeout time.Duration) []string {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		if m := p.matches(re); len(m) > 0 {
			return m[0]
		}
		select {
		case <-p.done:
			t.Fatalf("%s exited (%v) before printing a line matching %q:\n%s", p.name, p.err, re, p.tail(40))
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s printed no line matching %q in %s:\n%s", p.name, re, timeout, p.tail(40))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// handedOut holds every port freePort returned in this test binary, so two
// callers (say daprd's gRPC and metrics ports) never get the same one: the
// kernel may give a just-closed port to the next listener on :0.
var handedOut = struct {
	sync.Mutex
	ports map[int]bool
}{ports: map[int]bool{}}

// freePort returns a loopback TCP port that was free a moment ago and that
// no other freePort call of this run returned.
func freePort(t testing.TB) int {
	t.Helper()
	handedOut.Lock()
	defer handedOut.Unlock()
	for range 100 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatalf("free port: %v", err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		l.Close()
		if !handedOut.ports[port] {
			handedOut.ports[port] = true
			return port
		}
	}
	t.Fatal("free port: 100 tries gave only ports handed out before")
	return 0
}

// waitHTTP polls url until it answers want, or fails after timeout.
func waitHTTP(t testing.TB, p *proc, url string, want int, timeout time.Duration) {
	t.Helper()
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(timeout)
	last := "no answer"
	for time.Now().Before(deadline) {
		select {
		case <-p.done:
			t.Fatalf("%s exited (%v) before %s answered %d:\n%s", p.name, p.err, url, want, p.tail(40))
		default:
		}
		resp, err := client.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == want {
				return
			}
			last = resp.Status
		} else {
			last = err.Error()
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s did not answer %d on %s within %s (last: %s):\n%s", p.name, want, url, timeout, last, p.tail(40))
}

func addr(port int) string { return fmt.Sprintf("127.0.0.1:%d", port) }

// mb is kb KB in MB.
func mb(kb int) float64 { return float64(kb) / 1024 }
