package cluster

import (
	"os"
	"os/exec"
	"path/filepath"
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

// TestBuildWithoutFlock: tools/build.sh works where flock(1) is missing
// (macOS): it takes its lock with mkdir instead, and gives it back.
func TestBuildWithoutFlock(t *testing.T) {
	bin := t.TempDir()
	seen := map[string]bool{"flock": true} // left out
	for _, dir := range filepath.SplitList(os.Getenv("PATH")) {
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			if seen[e.Name()] {
				continue
			}
			seen[e.Name()] = true
			if err := os.Symlink(filepath.Join(dir, e.Name()), filepath.Join(bin, e.Name())); err != nil {
				t.Fatal(err)
			}
		}
	}
	cache := t.TempDir()
	cmd := exec.Command("bash", "../../tools/build.sh", "cloudevents")
	cmd.Env = append(os.Environ(), "PATH="+bin, "FUNCD_TOOLS_CACHE="+cache)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("tools/build.sh without flock: %v\n%s", err, out)
	}
	matches, _ := filepath.Glob(filepath.Join(cache, "cloudevents-*", "cloudevents"))
	if len(matches) != 1 {
		t.Errorf("no cloudevents binary in %s", cache)
	}
	if _, err := os.Stat(filepath.Join(cache, ".lock.d")); !os.IsNotExist(err) {
		t.Errorf("the lock %s/.lock.d is still there (%v)", cache, err)
	}
}
