package cluster

import (
	"os/exec"
	"testing"
)

// TestScripts: the cluster script and the tools build script parse (bash
// -n) and pass shellcheck (apt-get install -y shellcheck; tools/deps.sh
// installs it for make test).
func TestScripts(t *testing.T) {
	scripts := []string{"cluster.sh", "../../tools/build.sh", "../../tools/deps.sh"}
	for _, s := range scripts {
		if out, err := exec.Command("bash", "-n", s).CombinedOutput(); err != nil {
			t.Errorf("bash -n %s: %v\n%s", s, err, out)
		}
	}
	sc, err := exec.LookPath("shellcheck")
	if err != nil {
		t.Fatal("shellcheck is not installed: apt-get install -y shellcheck")
	}
	if out, err := exec.Command(sc, append([]string{"--shell=bash", "--severity=style"}, scripts...)...).CombinedOutput(); err != nil {
		t.Errorf("shellcheck: %v\n%s", err, out)
	}
}
