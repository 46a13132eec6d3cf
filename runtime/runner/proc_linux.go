package runner

import (
	"os/exec"
	"syscall"

	"golang.org/x/sys/unix"
)

// configure puts the process in its own process group, so it and its
// children can be signalled together, and has the kernel kill it when the
// runtime dies, even by SIGKILL.
func configure(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// signal sends sig to the process group of cmd.
func signal(cmd *exec.Cmd, sig syscall.Signal) error {
	return syscall.Kill(-cmd.Process.Pid, sig)
}

// reap waits for cmd to exit. Between exit and reaping, while the pid is a
// zombie that cannot be recycled, it calls exited and kills what is left of
// the process group (children the function started), so none is orphaned.
func reap(cmd *exec.Cmd, exited func()) error {
	pid := cmd.Process.Pid
	var info unix.Siginfo
	for {
		err := unix.Waitid(unix.P_PID, pid, &info, unix.WEXITED|unix.WNOWAIT, nil)
		if err != unix.EINTR {
			break
		}
	}
	_ = syscall.Kill(-pid, syscall.SIGKILL) // ESRCH when the group is empty
	exited()
	return cmd.Wait()
}
