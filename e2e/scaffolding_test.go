package e2e

import (
	"archive/zip"
	"bytes"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
)

// TestScaffoldingIsFuncs holds the go.mod and go.sum files funcd
// builds functions with (runtime/funcbuild/scaffolding) equal to the ones the
// func CLI's host builder writes, read from func's own source: its
// templates, embedded as a zip in generate/zz_filesystem_generated.go.
func TestScaffoldingIsFuncs(t *testing.T) {
	version, err := funcTool.version()
	if err != nil {
		t.Fatal(err)
	}
	templates := funcTemplates(t, version)
	for _, sig := range []string{"static-cloudevents", "instanced-cloudevents", "static-http", "instanced-http"} {
		for _, file := range []string{"go.mod", "go.sum"} {
			t.Run(sig+"/"+file, func(t *testing.T) {
				want, err := readZipFile(templates, "go/scaffolding/"+sig+"/"+file)
				if err != nil {
					t.Fatalf("func %s: %v", version, err)
				}
				got, err := os.ReadFile(filepath.Join("..", "runtime", "funcbuild", "scaffolding", sig, file+".txt"))
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got, want) {
					t.Errorf("runtime/funcbuild/scaffolding/%s/%s.txt differs from func %s's; copy it from there:\ngot\n%s\nwant\n%s",
						sig, file, version, got, want)
				}
			})
		}
	}
}

// funcTemplates returns func's embedded templates, from the module source
// the Go command downloads into its module cache.
func funcTemplates(t *testing.T, version string) *zip.Reader {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), "go", "mod", "download", "-json", funcTool.module+"@"+version)
	cmd.Dir = filepath.Join("..", "tools", funcTool.name)
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=mod")
	out, err := cmd.Output()
	if err != nil {
		if testing.Short() {
			t.Skipf("-short: go mod download %s@%s: %v", funcTool.module, version, err)
		}
		t.Fatalf("go mod download %s@%s: %v\n%s", funcTool.module, version, err, out)
	}
	var mod struct{ Dir string }
	if err := json.Unmarshal(out, &mod); err != nil {
		t.Fatalf("go mod download: %v\n%s", err, out)
	}
	src, err := os.ReadFile(filepath.Join(mod.Dir, "generate", "zz_filesystem_generated.go"))
	if err != nil {
		t.Fatal(err)
	}
	var data []byte
	for _, m := range regexp.MustCompile(`0x([0-9a-f]{2})`).FindAllSubmatch(src, -1) {
		b, _ := hex.DecodeString(string(m[1]))
		data = append(data, b...)
	}
	z, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatalf("func's embedded templates: %v", err)
	}
	return z
}

func readZipFile(z *zip.Reader, name string) ([]byte, error) {
	f, err := z.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var b bytes.Buffer
	_, err = b.ReadFrom(f)
	return b.Bytes(), err
}
