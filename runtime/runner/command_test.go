package runner

import (
	"context"
	"strings"
	"testing"
	"time"
)

func TestRunCommandDoneIsNotRestarted(t *testing.T) {
	out := &syncBuffer{}
	r, _ := newTestRunner(t, t.TempDir(), out)
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"run.sh": "echo \"hello from $APP_ID in $(basename \"$PWD\")\"\n"})
	inst, err := r.Run(context.Background(), Command{Name: "pub", Args: []string{"sh", "./run.sh"}, Dir: dir,
		Env: map[string]string{"APP_ID": "pub"}})
	if err != nil {
		t.Fatal(err)
	}
	defer inst.Stop(context.Background())
	if !eventually(5*time.Second, func() bool { return strings.Contains(out.String(), "pub | hello from pub in ") }) {
		t.Fatalf("output %q lacks the prefixed line", out.String())
	}
	select {
	case <-inst.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("an app that exited with status 0 is still supervised")
	}
	if n := inst.Restarts(); n != 0 {
		t.Errorf("restarts = %d, want 0", n)
	}
}

func TestRunCommandFailureIsRestarted(t *testing.T) {
	out := &syncBuffer{}
	r, _ := newTestRunner(t, t.TempDir(), out)
	inst, err := r.Run(context.Background(), Command{Name: "crash", Args: []string{"sh", "-c", "echo up; exit 3"}, Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if !eventually(10*time.Second, func() bool { return inst.Restarts() >= 1 }) {
		t.Fatal("a failed app was not restarted")
	}
	if err := inst.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestRunCommandNotReady(t *testing.T) {
	r, _ := newTestRunner(t, t.TempDir(), &syncBuffer{})
	_, err := r.Run(context.Background(), Command{Name: "x", Args: []string{"sh", "-c", "echo boom; exit 1"}, Dir: t.TempDir(),
		Ready: func(context.Context) bool { return false }})
	if err == nil || !strings.Contains(err.Error(), "exited before it was ready") || !strings.Contains(err.Error(), "boom") {
		t.Fatalf("err = %v, want exited before ready with its output", err)
	}
	if _, err := r.Run(context.Background(), Command{Name: "x", Args: []string{"no-such-program-here"}, Dir: t.TempDir()}); err == nil {
		t.Fatal("a missing program started")
	}
}
