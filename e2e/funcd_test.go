package e2e

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// funcdBin is built once by TestMain.
var funcdBin string

// httpClient bounds every request, so a function that never answers fails
// the test instead of hanging it.
var httpClient = &http.Client{Timeout: time.Minute}

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "funcd-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	funcdBin = filepath.Join(dir, "funcd")
	// Static, as make build builds it: funcd and the functions it builds
	// (cgo off) then share the compiled packages.
	build := exec.Command("go", "build", "-o", funcdBin, "../cmd/funcd")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build funcd:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// funcd is one running `funcd up` process.
type funcd struct {
	t       testing.TB
	cmd     *exec.Cmd
	gateway string

	mu      sync.Mutex
	orders  map[int]int // orderId -> times order-processor logged it
	pids    []int       // function processes it reported
	stderr  strings.Builder
	stdout  strings.Builder // the functions' prefixed output
	exited  chan struct{}
	waitErr error
}

var (
	gatewayLine  = regexp.MustCompile(`gateway on (http://\S+)`)
	receivedLine = regexp.MustCompile(`order-processor\s*\| Subscriber received: orderId=(\d+),`)
	pidLine      = regexp.MustCompile(`msg="function ready" .* pid=(\d+)`)
)

// startFuncd runs funcd up on a free port with the project's functions,
// the given resources and broker data folders, extra environment and flags.
func startFuncd(t testing.TB, components, data string, env []string, flags ...string) *funcd {
	t.Helper()
	root, _ := filepath.Abs("..")
	args := append([]string{"up", "--port", "0", "--dir", root, "--components", components, "--data", data}, flags...)
	cmd := exec.Command(funcdBin, args...)
	cmd.Env = append(os.Environ(), env...)
	stdout, _ := cmd.StdoutPipe()
	stderr, _ := cmd.StderrPipe()
	f := &funcd{t: t, cmd: cmd, orders: map[int]int{}, exited: make(chan struct{})}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start funcd: %v", err)
	}
	ready := make(chan string, 1)
	var readers sync.WaitGroup
	readers.Add(2)
	go func() { defer readers.Done(); f.scan(stdout, nil) }()
	go func() { defer readers.Done(); f.scan(stderr, ready) }()
	go func() { readers.Wait(); f.waitErr = cmd.Wait(); close(f.exited) }()
	t.Cleanup(func() { f.kill(syscall.SIGKILL) })
	select {
	case f.gateway = <-ready:
	case <-f.exited:
		t.Fatalf("funcd exited before it was ready: %v\n%s", f.waitErr, f.output())
	case <-time.After(4 * time.Minute):
		t.Fatalf("funcd not ready after 4 minutes\n%s", f.output())
	}
	return f
}

func (f *funcd) scan(r io.Reader, ready chan<- string) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		f.mu.Lock()
		if ready != nil {
			f.stderr.WriteString(line + "\n")
		} else {
			f.stdout.WriteString(line + "\n")
		}
		if m := receivedLine.FindStringSubmatch(line); m != nil {
			id, _ := strconv.Atoi(m[1])
			f.orders[id]++
		}
		if m := pidLine.FindStringSubmatch(line); m != nil {
			pid, _ := strconv.Atoi(m[1])
			f.pids = append(f.pids, pid)
		}
		f.mu.Unlock()
		if m := gatewayLine.FindStringSubmatch(line); m != nil && ready != nil {
			ready <- m[1]
		}
	}
}

func (f *funcd) output() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.stderr.String()
}

func (f *funcd) functionOutput() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.stdout.String()
}

// received returns a copy of the orders seen so far.
func (f *funcd) received() map[int]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make(map[int]int, len(f.orders))
	for k, v := range f.orders {
		out[k] = v
	}
	return out
}

func (f *funcd) functionPIDs() []int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]int(nil), f.pids...)
}

// kill signals funcd and waits for it to exit.
func (f *funcd) kill(sig syscall.Signal) {
	select {
	case <-f.exited:
		return
	default:
	}
	_ = f.cmd.Process.Signal(sig)
	select {
	case <-f.exited:
	case <-time.After(30 * time.Second):
		_ = f.cmd.Process.Kill()
		<-f.exited
		f.t.Errorf("funcd did not exit 30s after %v", sig)
	}
}

// postOrder sends one order to checkout through the gateway.
func (f *funcd) postOrder(ctx context.Context, id int) (int, string, error) {
	body := fmt.Sprintf(`{"orderId":%d,"customerName":"Customer %d","amount":%d.0,"status":"Pending"}`, id, id, id*10)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, f.gateway+"/checkout", strings.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("ce-specversion", "1.0")
	req.Header.Set("ce-id", "e2e-order-"+strconv.Itoa(id))
	req.Header.Set("ce-source", "/e2e")
	req.Header.Set("ce-type", "com.example.order")
	req.Header.Set("Content-Type", "application/json")
	resp, err := httpClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), nil
}

// waitFor polls cond until it holds or the timeout passes.
func waitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// processGone reports whether pid no longer runs (a zombie counts as gone).
func processGone(pid int) bool {
	if err := syscall.Kill(pid, 0); err != nil {
		return true
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	fields := strings.Fields(string(b))
	return len(fields) > 2 && fields[2] == "Z"
}
