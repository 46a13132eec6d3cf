//go:build linux

package runner

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/funcd/funcd/runtime/funcbuild"
)

// gone reports whether pid no longer runs (a zombie counts as gone).
func gone(pid int) bool {
	if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
		return true
	}
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return errors.Is(err, os.ErrNotExist)
	}
	_, after, _ := strings.Cut(string(stat), ") ")
	return strings.HasPrefix(after, "Z")
}

func TestStartFailsFastWhenProcessExits(t *testing.T) {
	skipShort(t)
	r, b := newTestRunner(t, t.TempDir(), io.Discard)
	fn := copyEcho(t, map[string]string{"crash.go": `package function

import (
	"fmt"
	"os"
)

func init() {
	fmt.Println("boom: no config")
	os.Exit(3)
}
`})
	if err := b.Build(t.Context(), []funcbuild.Function{fn}); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err := r.Start(t.Context(), fn, nil)
	if err == nil || !strings.Contains(err.Error(), "exit status 3") || !strings.Contains(err.Error(), "boom: no config") {
		t.Fatalf("got error %v, want the exit status and the last output", err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("Start took %v to notice the exit", took)
	}
}

const orphanHelperEnv = "RUNNER_TEST_ORPHAN_CACHE"

// A runtime killed with SIGKILL takes its function processes with it.
func TestNoOrphanWhenParentIsKilled(t *testing.T) {
	if cache := os.Getenv(orphanHelperEnv); cache != "" {
		runOrphanHelper(t, cache)
		return
	}
	skipShort(t)
	cache := t.TempDir()
	_, b := newTestRunner(t, cache, io.Discard)
	fn := copyEcho(t, nil)
	if err := b.Build(t.Context(), []funcbuild.Function{fn}); err != nil {
		t.Fatal(err)
	}
	helper := exec.Command(os.Args[0], "-test.run=^TestNoOrphanWhenParentIsKilled$")
	helper.Env = append(os.Environ(), orphanHelperEnv+"="+cache, "RUNNER_TEST_FUNCTION_DIR="+fn.Dir)
	helper.Stderr = t.Output()
	stdout, err := helper.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := helper.Start(); err != nil {
		t.Fatal(err)
	}
	pid := readChildPID(t, stdout)
	if err := helper.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = helper.Wait() // killed
	if !eventually(5*time.Second, func() bool { return gone(pid) }) {
		t.Errorf("function process %d outlived its killed parent", pid)
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
}

// runOrphanHelper is the parent process of TestNoOrphanWhenParentIsKilled:
// it starts an instance, prints its pid and waits to be killed.
func runOrphanHelper(t *testing.T, cache string) {
	r, _ := newTestRunner(t, cache, io.Discard)
	fn, err := funcbuild.Load(os.Getenv("RUNNER_TEST_FUNCTION_DIR"))
	if err != nil {
		t.Fatal(err)
	}
	inst, err := r.Start(t.Context(), fn, nil)
	if err != nil {
		t.Fatal(err)
	}
	os.Stdout.WriteString("CHILD_PID=" + strconv.Itoa(inst.PID()) + "\n")
	time.Sleep(time.Minute) // killed long before
	t.Fatal("helper was not killed")
}

func readChildPID(t *testing.T, r io.Reader) int {
	t.Helper()
	pid := make(chan int, 1)
	var once sync.Once
	go func() {
		s := bufio.NewScanner(r)
		for s.Scan() {
			if v, ok := strings.CutPrefix(s.Text(), "CHILD_PID="); ok {
				n, _ := strconv.Atoi(v)
				once.Do(func() { pid <- n })
			}
		}
	}()
	select {
	case n := <-pid:
		return n
	case <-time.After(30 * time.Second):
		t.Fatal("helper did not report its child's pid")
		return 0
	}
}

// A process that does not exit on SIGTERM is killed when Stop's ctx ends.
func TestStopKillsAfterGrace(t *testing.T) {
	skipShort(t)
	r, _ := newTestRunner(t, t.TempDir(), io.Discard)
	fn := copyEcho(t, map[string]string{"handle.go": `package function

import (
	"context"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"
)

type F struct{}

func New() *F { return &F{} }

func (*F) Handle(ctx context.Context, e event.Event) {}

// Stop ignores its deadline: func-go waits up to 30s for it.
func (*F) Stop(ctx context.Context) error {
	time.Sleep(time.Hour)
	return nil
}
`})
	inst, err := r.Start(t.Context(), fn, nil)
	if err != nil {
		t.Fatal(err)
	}
	pid := inst.PID()
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	err = inst.Stop(ctx)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("got error %v, want one wrapping context.DeadlineExceeded", err)
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("Stop took %v", took)
	}
	if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("after Stop, kill(%d, 0) = %v, want ESRCH", pid, err)
	}
}

// TestOtherSignalsIgnored: a function subscribes to every signal, as
// func-go's does, so that one other than SIGINT and SIGTERM (SIGHUP,
// SIGUSR1, SIGTSTP, a real-time signal...) is ignored rather than ending or
// stopping it. funcd's generated main subscribes to those once it has
// served for a while (past a cold start's first requests), in the order of
// their numbers: the test waits until the kernel shows the process catching
// SIGTSTP, SIGTTIN and SIGTTOU (SigCgt in /proc/<pid>/status; the Go
// runtime catches most other signals itself, to end the process on them
// unless they are subscribed to), then sends those and others.
func TestOtherSignalsIgnored(t *testing.T) {
	skipShort(t)
	r, _ := newTestRunner(t, t.TempDir(), io.Discard)
	inst, err := r.Start(t.Context(), copyEcho(t, nil), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = inst.Stop(context.Background()) })
	pid := inst.PID()
	subscribedOnly := []syscall.Signal{syscall.SIGTSTP, syscall.SIGTTIN, syscall.SIGTTOU}
	deadline := time.Now().Add(10 * time.Second)
	for {
		caught, err := caughtSignals(pid)
		if err != nil {
			t.Fatal(err)
		}
		missing := []syscall.Signal{}
		for _, sig := range subscribedOnly {
			if caught&(1<<(sig-1)) == 0 {
				missing = append(missing, sig)
			}
		}
		if len(missing) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 10s the function does not catch %v (SigCgt %x)", missing, caught)
		}
		time.Sleep(10 * time.Millisecond)
	}
	sent := []syscall.Signal{syscall.SIGHUP, syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGALRM, syscall.SIGTSTP, syscall.SIGTTIN, syscall.Signal(40)}
	for _, sig := range sent {
		if err := syscall.Kill(pid, sig); err != nil {
			t.Fatal(err)
		}
	}
	// A signal left to its default effect ends or stops the process as it
	// is delivered: by the time these requests are answered it would be
	// gone (or restarted by the runner), or not answer.
	client := &http.Client{Timeout: 5 * time.Second}
	for range 3 {
		resp, err := client.Get(inst.URL() + "/health/readiness")
		if err != nil {
			t.Fatalf("after %v: %v", sent, err)
		}
		resp.Body.Close()
		time.Sleep(50 * time.Millisecond)
	}
	if gone(pid) || inst.PID() != pid || inst.Restarts() != 0 {
		t.Errorf("after %v: pid %d gone %v, now pid %d, %d restarts; want it still running", sent, pid, gone(pid), inst.PID(), inst.Restarts())
	}
}

// caughtSignals is the SigCgt mask of pid: bit n-1 set for each signal n
// the process catches.
func caughtSignals(pid int) (uint64, error) {
	status, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, err
	}
	for line := range strings.Lines(string(status)) {
		if v, ok := strings.CutPrefix(line, "SigCgt:"); ok {
			return strconv.ParseUint(strings.TrimSpace(v), 16, 64)
		}
	}
	return 0, errors.New("no SigCgt in /proc/" + strconv.Itoa(pid) + "/status")
}
