package e2e

import (
	"context"
	"fmt"
	"net/http"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/funcd/funcd/runtime/multiapp"
	"github.com/funcd/funcd/runtime/pubsub/pubsubtest"
)

var (
	appReceived  = regexp.MustCompile(`^Subscriber received: orderId=\d+, `)
	appPublished = regexp.MustCompile(`^INFO:root:Published data: `)
	appSubscribe = regexp.MustCompile(`^Dapr pub/sub is subscribed to: `)
)

// TestDaprAppsSeed runs examples/dapr-apps (the seed's publisher and
// subscriber as Python apps) from its dapr.yaml under funcd, and the same
// template under the real daprd 1.16 with Redis (the one-file component
// swap), and compares what the apps print.
func TestDaprAppsSeed(t *testing.T) {
	needPython(t)
	src, _ := filepath.Abs("../examples/dapr-apps")
	env := []string{"PUBLISH_INTERVAL=0.05"}
	port := strconv.Itoa(freePort(t))

	dir := copyDir(t, src)
	rewrite(t, filepath.Join(dir, multiapp.FileName), "appPort: 6001", "appPort: "+port)
	f := startFuncd(t, "", t.TempDir(), env, "--dir", dir)
	// The publisher logs an order after its publish returns, so the
	// subscriber may print it first: wait for both sides.
	waitFor(t, 90*time.Second, "19 orders published and received under funcd", func() bool {
		out := f.functionOutput()
		return len(linesOf(out, "order-processor-sdk", appReceived)) == 19 &&
			len(linesOf(out, "checkout-sdk", appPublished)) == 19
	})
	underFuncd := appLines(f.functionOutput())
	f.kill(syscall.SIGINT) // Ctrl-C stops the apps with funcd
	if !strings.Contains(f.output(), "APP ") || !regexp.MustCompile(`order-processor-sdk\s+orderpubsub/orders\s+19\s`).MatchString(f.output()) {
		t.Errorf("funcd's summary lacks the app's 19 deliveries:\n%s", f.output())
	}

	redisAddr := pubsubtest.StartRedis(t)
	dir = copyDir(t, src)
	port = strconv.Itoa(freePort(t)) // funcd's app is gone, but the port may linger
	rewrite(t, filepath.Join(dir, multiapp.FileName), "appPort: 6001", "appPort: "+port)
	rewrite(t, filepath.Join(dir, "components/redis/pubsub.yaml"), "localhost:6379", redisAddr)
	tpl, err := multiapp.Load(filepath.Join(dir, multiapp.FileName))
	if err != nil {
		t.Fatal(err)
	}
	procs := daprRunF(t, tpl, filepath.Join(dir, "components/redis"), env)
	sub := procs["order-processor-sdk"]
	waitFor(t, 90*time.Second, "19 orders published and received under daprd", func() bool {
		return len(linesOf(sub.output(), "", appReceived)) == 19 &&
			len(linesOf(procs["checkout-sdk"].output(), "", appPublished)) == 19
	})
	underDaprd := appLines(sub.output() + "\n" + procs["checkout-sdk"].output())

	if !reflect.DeepEqual(underFuncd, underDaprd) {
		t.Errorf("the apps printed differently\nunder funcd:\n%s\nunder daprd:\n%s",
			strings.Join(underFuncd, "\n"), strings.Join(underDaprd, "\n"))
	}
	if n := len(underFuncd); n != 19*2+1 {
		t.Errorf("got %d lines, want 19 published, 19 received and the subscription", n)
	}
}

// appLines are the lines both apps print, without prefixes, sorted.
func appLines(out string) []string {
	var all []string
	for _, re := range []*regexp.Regexp{appSubscribe, appPublished, appReceived} {
		for _, p := range []string{"order-processor-sdk", "checkout-sdk", ""} {
			for _, l := range linesOf(out, p, re) {
				if !contains(all, l) {
					all = append(all, l)
				}
			}
		}
	}
	return all
}

func contains(list []string, s string) bool {
	for _, l := range list {
		if l == s {
			return true
		}
	}
	return false
}

// TestDaprAppsNextToFunctions runs the example apps next to the project's
// functions in one funcd: the Python publisher's orders reach the
// order-processor function (and the Python subscriber), and an order the
// checkout function publishes reaches the Python subscriber.
func TestDaprAppsNextToFunctions(t *testing.T) {
	py := needPython(t)
	root, _ := filepath.Abs("..")
	tplFile := filepath.Join(t.TempDir(), "apps.yaml")
	writeFile(t, tplFile, fmt.Sprintf(`version: 1
common:
  resourcesPath: %s
apps:
  - appID: order-processor-sdk
    appDirPath: %s
    appPort: %d
    command: [%q, "app.py"]
  - appID: checkout-sdk
    appDirPath: %s
    command: [%q, "publish.py"]
`, filepath.Join(root, "components"), filepath.Join(root, "examples/dapr-apps/subscription"), freePort(t), py,
		filepath.Join(root, "examples/dapr-apps/publisher"), py))
	f := startFuncd(t, filepath.Join(root, "components"), t.TempDir(), []string{"PUBLISH_INTERVAL=0.05"}, "-f", tplFile)
	waitFor(t, 2*time.Minute, "the function received the app's 19 orders", func() bool {
		got := f.received()
		for id := 1; id <= 19; id++ {
			if got[id] == 0 {
				return false
			}
		}
		return true
	})
	if code, body, err := f.postOrder(context.Background(), 100); err != nil || code != http.StatusOK {
		t.Fatalf("order 100 through checkout: %d %s %v", code, body, err)
	}
	waitFor(t, time.Minute, "the app received the app's 19 orders and the function's order 100", func() bool {
		lines := linesOf(f.functionOutput(), "order-processor-sdk", appReceived)
		return len(lines) == 20 && strings.Contains(strings.Join(lines, "\n"), "orderId=100,")
	})
}

// TestDaprAppsGoSDK runs examples/dapr-apps-go (subscribers on the Dapr Go
// SDK's service/http and service/grpc, a publisher on its client) from
// its dapr.yaml under funcd and under the real daprd 1.16 with Redis, and
// compares what the apps print.
func TestDaprAppsGoSDK(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: compiles the Dapr Go SDK apps")
	}
	src, _ := filepath.Abs("../examples/dapr-apps-go")
	// The apps run with `go run .`: build them once first, so that neither
	// run waits for a cold compile of the SDK (minutes on a fresh machine).
	build := exec.Command("go", "build", "./...")
	build.Dir = src
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build the Go example apps: %v\n%s", err, out)
	}
	env := []string{"PUBLISH_INTERVAL=50ms"}
	ids := []string{"order-processor-http", "order-processor-grpc"}
	goPublished := regexp.MustCompile(`^Published data: `)
	prepare := func() (string, *multiapp.Template) {
		dir := copyDir(t, src)
		file := filepath.Join(dir, multiapp.FileName)
		rewrite(t, file, "appPort: 6002", "appPort: "+strconv.Itoa(freePort(t)))
		rewrite(t, file, "appPort: 6003", "appPort: "+strconv.Itoa(freePort(t)))
		tpl, err := multiapp.Load(file)
		if err != nil {
			t.Fatal(err)
		}
		return dir, tpl
	}

	dir, _ := prepare()
	f := startFuncd(t, "", t.TempDir(), env, "--dir", dir)
	// checkout-go logs an order after its publish returns, so the
	// subscribers may print it first: wait for all three.
	waitFor(t, 5*time.Minute, "19 orders published and received by both subscribers under funcd", func() bool {
		out := f.functionOutput()
		return len(linesOf(out, ids[0], appReceived)) == 19 && len(linesOf(out, ids[1], appReceived)) == 19 &&
			len(linesOf(out, "checkout-go", goPublished)) == 19
	})
	underFuncd := map[string][]string{}
	for _, id := range append(ids, "checkout-go") {
		underFuncd[id] = linesOf(f.functionOutput(), id, regexp.MustCompile(`^(Subscriber received|Published data): `))
	}
	f.kill(syscall.SIGINT)

	redisAddr := pubsubtest.StartRedis(t)
	dir, tpl := prepare()
	rewrite(t, filepath.Join(dir, "components/redis/pubsub.yaml"), "localhost:6379", redisAddr)
	procs := daprRunF(t, tpl, filepath.Join(dir, "components/redis"), env)
	waitFor(t, 5*time.Minute, "19 orders published and received by both subscribers under daprd", func() bool {
		return len(linesOf(procs[ids[0]].output(), "", appReceived)) == 19 && len(linesOf(procs[ids[1]].output(), "", appReceived)) == 19 &&
			len(linesOf(procs["checkout-go"].output(), "", goPublished)) == 19
	})
	for id, want := range underFuncd {
		got := linesOf(procs[id].output(), "", regexp.MustCompile(`^(Subscriber received|Published data): `))
		if !reflect.DeepEqual(got, want) || len(got) != 19 {
			t.Errorf("%s printed differently\nunder funcd:\n%s\nunder daprd:\n%s", id, strings.Join(want, "\n"), strings.Join(got, "\n"))
		}
	}
}
