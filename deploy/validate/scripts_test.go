package validate

import (
	"os/exec"
	"path/filepath"
	"testing"
)

// TestScripts: every script in deploy/ parses (bash -n) and passes
// shellcheck. shellcheck comes from apt (apt-get install -y shellcheck); a
// missing shellcheck fails the test, except under go test -short.
func TestScripts(t *testing.T) {
	scripts := glob(t, filepath.Join(deployDir, "*.sh"))
	for _, s := range scripts {
		if out, err := exec.Command("bash", "-n", s).CombinedOutput(); err != nil {
			t.Errorf("bash -n %s: %v\n%s", s, err, out)
		}
	}
	sc, err := exec.LookPath("shellcheck")
	if err != nil {
		if testing.Short() {
			t.Skip("shellcheck is not installed (apt-get install -y shellcheck)")
		}
		t.Fatal("shellcheck is not installed: apt-get install -y shellcheck (or go test -short to skip it)")
	}
	args := append([]string{"--shell=bash", "--severity=style"}, scripts...)
	if out, err := exec.Command(sc, args...).CombinedOutput(); err != nil {
		t.Errorf("shellcheck: %v\n%s", err, out)
	}
}
