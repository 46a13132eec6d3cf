//go:build !linux

package runner

import (
	"os"
	"os/exec"
	"syscall"
)

// configure leaves the process in the runtime's process group: only Linux
// gets process groups and parent-death signals (see proc_linux.go).
func configure(cmd *exec.Cmd) {}

// signal sends sig to the process itself. Where SIGTERM is not supported
// (Windows) the error makes the caller fall back to killing it.
func signal(cmd *exec.Cmd, sig syscall.Signal) error {
	if sig == syscall.SIGKILL {
		return cmd.Process.Kill()
	}
	return cmd.Process.Signal(os.Signal(sig))
}

// reap waits for cmd to exit. os.Process guards its own signals against a
// recycled pid once Wait has returned.
func reap(cmd *exec.Cmd, exited func()) error {
	err := cmd.Wait()
	exited()
	return err
}
