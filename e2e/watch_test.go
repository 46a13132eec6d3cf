package e2e

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestWatchReloadsEditedFunction edits a running function's source: funcd
// up rebuilds it and replaces its instance, so the next event runs the new
// code; an edit of its func.yaml applies its run.envs to the new instance;
// an edit that does not compile is reported and the running instance keeps
// serving.
func TestWatchReloadsEditedFunction(t *testing.T) {
	dir := copyFunction(t, "../functions/order-processor")
	root, _ := filepath.Abs("..")
	f := startFuncd(t, filepath.Join(root, "components"), t.TempDir(), nil,
		"--functions", filepath.Dir(dir), "--idle", "1h")

	send := func(id string) {
		t.Helper()
		code, body := post(t, f.gateway+"/order-processor", "application/json",
			`{"orderId":`+id+`,"customerName":"Ada","amount":1,"status":"Pending"}`,
			map[string]string{"ce-specversion": "1.0", "ce-id": "watch-" + id, "ce-source": "/e2e", "ce-type": "com.example.order"})
		if code != http.StatusOK && code != http.StatusNoContent {
			t.Fatalf("order %s: got %d %s\n%s", id, code, body, f.output())
		}
	}
	send("1")
	waitFor(t, time.Minute, "order 1 logged", func() bool {
		return strings.Contains(f.functionOutput(), "Subscriber received: orderId=1,")
	})

	src := filepath.Join(dir, "order.go")
	code, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	edited := strings.Replace(string(code), `"Subscriber received: `, `"Subscriber reloaded: `, 1)
	if edited == string(code) {
		t.Fatal("order.go no longer has the log line this test edits")
	}
	if err := os.WriteFile(src, []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 3*time.Minute, "the function reloaded", func() bool {
		return strings.Contains(f.output(), `msg="function reloaded" function=order-processor replaced_instances=1`)
	})
	send("2")
	waitFor(t, time.Minute, "order 2 logged by the new code", func() bool {
		return strings.Contains(f.functionOutput(), "Subscriber reloaded: orderId=2,")
	})

	// func.yaml: run.envs apply to the new instance.
	yaml := filepath.Join(dir, "func.yaml")
	conf, err := os.ReadFile(yaml)
	if err != nil {
		t.Fatal(err)
	}
	conf = append(conf, "run:\n  envs:\n    - name: LOG_FORMAT\n      value: json\n"...)
	if err := os.WriteFile(yaml, conf, 0o644); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 3*time.Minute, "func.yaml applied and the function reloaded", func() bool {
		out := f.output()
		return strings.Contains(out, `msg="func.yaml applied" function=order-processor`) &&
			strings.Count(out, `msg="function reloaded" function=order-processor`) == 2
	})
	send("3")
	waitFor(t, time.Minute, "order 3 logged as JSON (LOG_FORMAT from run.envs)", func() bool {
		return strings.Contains(f.functionOutput(), `"msg":"Subscriber reloaded: orderId=3,`)
	})

	if err := os.WriteFile(src, []byte(edited+"\nthis does not compile\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 3*time.Minute, "the failed rebuild reported", func() bool {
		out := f.output()
		return strings.Contains(out, `reload failed: the running instances keep the previous build`) && strings.Contains(out, "order.go")
	})
	send("4")
	waitFor(t, time.Minute, "order 4 logged by the running instance", func() bool {
		return strings.Contains(f.functionOutput(), `"msg":"Subscriber reloaded: orderId=4,`)
	})
}
