package platform

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestNoticeNewFunctions(t *testing.T) {
	dir := t.TempDir()
	mk := func(name string) string {
		d := filepath.Join(dir, name)
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(d, "func.yaml"), []byte("name: "+name), 0o644); err != nil {
			t.Fatal(err)
		}
		return d
	}
	old := mk("checkout")
	var logs bytes.Buffer
	p := &Platform{cfg: Config{FunctionsDir: dir}, log: slog.New(slog.NewTextHandler(&logs, nil))}
	known := functionDirs(dir)
	if known = p.noticeNewFunctions(known); logs.Len() != 0 {
		t.Fatalf("nothing changed, but: %s", logs.String())
	}
	added := mk("shipping")
	if err := os.RemoveAll(old); err != nil {
		t.Fatal(err)
	}
	known = p.noticeNewFunctions(known)
	for _, want := range []string{"new function folder: restart funcd up to run it", added, "function folder gone", old} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log does not say %q:\n%s", want, logs.String())
		}
	}
	logs.Reset()
	if p.noticeNewFunctions(known); logs.Len() != 0 {
		t.Errorf("said it twice: %s", logs.String())
	}
}
