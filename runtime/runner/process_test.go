//go:build linux

package runner

import (
	"bufio"
	"context"
	"errors"
	"io"
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
