package runner

import (
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/funcd/funcd/runtime/funcbuild"
)

// ceImports is what every CloudEvent handler below needs.
const ceImports = `import (
	"context"
	"fmt"

	"github.com/cloudevents/sdk-go/v2/event"
)

var (
	_ context.Context
	_ event.Event
)
`

// TestFuncSignatures builds and runs functions shaped as `func create`
// makes them: go.mod and go.sum as its templates write them (no
// knative.dev/func-go, no checksums of the scaffold's imports, or no go.sum
// at all), with every Handle signature func-go serves, static and
// instanced. Each answers a request.
func TestFuncSignatures(t *testing.T) {
	skipShort(t)
	ceStatic := func(params, results, body string) string {
		return "package function\n\n" + ceImports + "\nfunc Handle(" + params + ") " + results + " {\n\tfmt.Println(\"handled\")\n\t" + body + "\n}\n"
	}
	ceInstanced := func(params, results, body string) string {
		return "package function\n\n" + ceImports + "\ntype F struct{}\n\nfunc New() *F { return &F{} }\n\nfunc (*F) Handle(" + params + ") " + results + " {\n\tfmt.Println(\"handled\")\n\t" + body + "\n}\n"
	}
	const httpBody = `fmt.Println("handled")
	fmt.Fprintf(w, "%s %s", r.Method, r.URL.Path)`
	tests := []struct {
		name   string
		invoke string
		src    string
		goSum  bool // the template's go.sum (CloudEvents only); else none
		reply  bool // answers with the event it got
	}{
		{name: "ce-none", src: ceStatic("", "", "")},
		{name: "ce-err", src: ceStatic("", "error", "return nil")},
		{name: "ce-ctx", src: ceStatic("ctx context.Context", "", "")},
		{name: "ce-ctx-err", src: ceStatic("ctx context.Context", "error", "return nil")},
		{name: "ce-event", src: ceStatic("e event.Event", "", ""), goSum: true},
		{name: "ce-event-err", src: ceStatic("e event.Event", "error", "return nil"), goSum: true},
		{name: "ce-ctx-event", src: ceStatic("ctx context.Context, e event.Event", "", ""), goSum: true},
		{name: "ce-ctx-event-err", src: ceStatic("ctx context.Context, e event.Event", "error", "return nil"), goSum: true},
		{name: "ce-event-reply", src: ceStatic("e event.Event", "*event.Event", "return &e"), reply: true},
		{name: "ce-event-reply-err", src: ceStatic("e event.Event", "(*event.Event, error)", "return &e, nil"), reply: true},
		{name: "ce-ctx-event-reply", src: ceStatic("ctx context.Context, e event.Event", "*event.Event", "return &e"), goSum: true, reply: true},
		{name: "ce-template", src: ceStatic("ctx context.Context, e event.Event", "(*event.Event, error)", "return &e, nil"), goSum: true, reply: true},
		{name: "ce-new-none", src: ceInstanced("", "", "")},
		{name: "ce-new-event-err", src: ceInstanced("ctx context.Context, e event.Event", "error", "return nil"), goSum: true},
		{name: "ce-new-reply", src: ceInstanced("ctx context.Context, e event.Event", "(*event.Event, error)", "return &e, nil"), goSum: true, reply: true},
		{name: "http-template", invoke: funcbuild.InvokeHTTP, src: "package function\n\nimport (\n\t\"fmt\"\n\t\"net/http\"\n)\n\nfunc Handle(w http.ResponseWriter, r *http.Request) {\n\t" + httpBody + "\n}\n"},
		{name: "http-ctx", invoke: funcbuild.InvokeHTTP, src: "package function\n\nimport (\n\t\"context\"\n\t\"fmt\"\n\t\"net/http\"\n)\n\nfunc Handle(ctx context.Context, w http.ResponseWriter, r *http.Request) {\n\t" + httpBody + "\n}\n"},
		{name: "http-new", invoke: funcbuild.InvokeHTTP, src: "package function\n\nimport (\n\t\"fmt\"\n\t\"net/http\"\n)\n\ntype F struct{}\n\nfunc New() *F { return &F{} }\n\nfunc (*F) Handle(w http.ResponseWriter, r *http.Request) {\n\t" + httpBody + "\n}\n"},
	}
	var out syncBuffer
	r, _ := newTestRunner(t, t.TempDir(), &out)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fn := funcCreated(t, tt.name, tt.invoke, tt.src, tt.goSum)
			want := folder(t, fn.Dir)
			start := time.Now()
			inst, err := r.Start(t.Context(), fn, nil)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = inst.Stop(t.Context()) })
			t.Logf("built and started in %v", time.Since(start).Round(time.Millisecond))
			if tt.invoke == funcbuild.InvokeHTTP {
				checkHTTP(t, inst.URL())
			} else {
				checkCloudEvent(t, inst.URL(), tt.reply)
			}
			if !eventually(5*time.Second, func() bool { return printed(out.String(), fn.Name, "handled") }) {
				t.Errorf("the function did not print %q:\n%s", "handled", out.String())
			}
			if got := folder(t, fn.Dir); !maps.Equal(got, want) {
				t.Errorf("the function's folder holds %v after the build, want %v as written", got, want)
			}
		})
	}
}

// folder maps the names of the files in dir to their contents.
func folder(t *testing.T, dir string) map[string]string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out[e.Name()] = string(data)
	}
	return out
}

// printed reports whether the function name printed line to out.
func printed(out, name, line string) bool {
	for l := range strings.Lines(out) {
		if prefix, got, ok := strings.Cut(strings.TrimSuffix(l, "\n"), " | "); ok && strings.TrimSpace(prefix) == name && got == line {
			return true
		}
	}
	return false
}

// funcCreated writes a function as func create's Go templates do.
func funcCreated(t *testing.T, name, invoke, src string, goSum bool) funcbuild.Function {
	t.Helper()
	dir := filepath.Join(t.TempDir(), name)
	invokeLine := ""
	goMod := "module function\n\ngo 1.21\n"
	if invoke != funcbuild.InvokeHTTP {
		invokeLine = "invoke: cloudevent\n"
		data, err := os.ReadFile(filepath.Join(testdata, "func-cloudevents", "go.mod"))
		if err != nil {
			t.Fatal(err)
		}
		goMod = string(data)
	}
	files := map[string]string{
		"func.yaml": "specVersion: 0.36.0\nname: " + name + "\nruntime: go\n" + invokeLine,
		"go.mod":    goMod,
		"handle.go": src,
	}
	if goSum {
		data, err := os.ReadFile(filepath.Join(testdata, "func-cloudevents", "go.sum"))
		if err != nil {
			t.Fatal(err)
		}
		files["go.sum"] = string(data)
	}
	writeFiles(t, dir, files)
	fn, err := funcbuild.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	return fn
}

func checkHTTP(t *testing.T, url string) {
	t.Helper()
	resp, err := testClient.Get(url + "/some/path?q=1")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || string(body) != "GET /some/path" {
		t.Errorf("got %s %q, want 200 %q", resp.Status, body, "GET /some/path")
	}
}

func checkCloudEvent(t *testing.T, url string, reply bool) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url+"/", strings.NewReader(`{"n":1}`))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]string{"Ce-Specversion": "1.0", "Ce-Id": "sig-1", "Ce-Source": "/test",
		"Ce-Type": "sig.test", "Content-Type": "application/json"} {
		req.Header.Set(k, v)
	}
	resp, err := testClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	got := fmt.Sprintf("%d %s %s", resp.StatusCode/100, resp.Header.Get("Ce-Type"), body)
	want := "2  "
	if reply {
		want = `2 sig.test {"n":1}`
	}
	if got != want {
		t.Errorf("got status class, reply type and body %q, want %q", got, want)
	}
}
