package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/funcd/funcd/runtime/pubsub/pubsubtest"
)

// bulkCases are the per-entry answers of an app with bulk subscribe, and
// what daprd 1.16 does with each on a topic with a deadLetterTopic.
var bulkCases = map[string]string{
	"success": "1 attempt",
	"retry":   "1 attempt, dead-lettered",
	"drop":    "1 attempt, dead-lettered",
	"missing": "1 attempt, dead-lettered", // no status for the entry: retried
	"unknown": "1 attempt, dead-lettered",
}

// bulkApp is a Dapr app that subscribes to b-dl in bulk and answers each
// entry as its case says.
type bulkApp struct {
	port int
	bulkTally
	types []string
}

// bulkTally is what a bulk app (HTTP or gRPC) saw, case by case.
type bulkTally struct {
	mu       sync.Mutex
	attempts map[string]int
	dead     map[string]bool
	shape    map[string]string // case -> the entry and envelope without ids and volatile fields
}

func newBulkTally() bulkTally {
	return bulkTally{attempts: map[string]int{}, dead: map[string]bool{}, shape: map[string]string{}}
}

const bulkSubscriptions = `[
 {"pubsubname":"orderpubsub","topic":"b-dl","route":"/bulk","deadLetterTopic":"b-dlq",
  "bulkSubscribe":{"enabled":true,"maxMessagesCount":5,"maxAwaitDurationMs":1000}},
 {"pubsubname":"orderpubsub","topic":"b-dlq","route":"/dead"}]`

func startBulkApp(t *testing.T) *bulkApp {
	t.Helper()
	a := &bulkApp{bulkTally: newBulkTally()}
	a.port = serveHTTPApp(t, a.serve)
	return a
}

func (a *bulkApp) serve(w http.ResponseWriter, r *http.Request) {
	if answeredBySidecarCalls(w, r, bulkSubscriptions) {
		return
	}
	body, _ := io.ReadAll(r.Body)
	a.mu.Lock()
	defer a.mu.Unlock()
	if r.URL.Path == "/dead" {
		var ev struct {
			Data struct {
				Case string `json:"case"`
			} `json:"data"`
		}
		_ = json.Unmarshal(body, &ev)
		a.dead[ev.Data.Case] = true
		return
	}
	a.types = append(a.types, r.Header.Get("Content-Type"))
	var env map[string]any
	_ = json.Unmarshal(body, &env)
	entries, _ := env["entries"].([]any)
	delete(env, "entries")
	delete(env, "id")
	var statuses []map[string]string
	for _, e := range entries {
		entry, _ := e.(map[string]any)
		event, _ := entry["event"].(map[string]any)
		data, _ := event["data"].(map[string]any)
		c, _ := data["case"].(string)
		id, _ := entry["entryId"].(string)
		a.attempts[c]++
		status := map[string]string{"success": "SUCCESS", "retry": "RETRY", "drop": "DROP", "unknown": "shipped"}[c]
		if a.attempts[c] > 1 {
			status = "SUCCESS"
		}
		if status != "" {
			statuses = append(statuses, map[string]string{"entryId": id, "status": status})
		}
		if a.attempts[c] == 1 {
			delete(entry, "entryId")
			delete(entry, "metadata") // the component's own: none from Redis, the subject from JetStream
			for _, k := range volatile {
				delete(event, k)
			}
			b, _ := json.Marshal(map[string]any{"envelope": env, "entry": entry})
			a.shape[c] = string(b)
		}
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"statuses": statuses})
}

func (a *bulkTally) outcomes() map[string]string {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := map[string]string{}
	for c := range bulkCases {
		out[c] = attempts(a.attempts[c])
		if a.dead[c] {
			out[c] += ", dead-lettered"
		}
	}
	return out
}

func (a *bulkTally) settled() bool { return sameOutcomes(a.outcomes(), bulkCases) }

// attempts spells a count of attempts.
func attempts(n int) string {
	if n == 1 {
		return "1 attempt"
	}
	return fmt.Sprintf("%d attempts", n)
}

// sameOutcomes reports whether every case of want has its outcome in got.
func sameOutcomes(got, want map[string]string) bool {
	for c, w := range want {
		if got[c] != w {
			return false
		}
	}
	return true
}

func publishBulkCases(t *testing.T, daprURL, token string) {
	t.Helper()
	for _, c := range slices.Sorted(mapsKeys(bulkCases)) {
		publishJSON(t, daprURL, token, "b-dl", fmt.Sprintf(`{"case":%q}`, c))
	}
}

func mapsKeys(m map[string]string) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// TestDaprAppBulkSubscribe delivers in bulk to an HTTP app through funcd
// and through the real daprd 1.16 (with Redis), and compares the bulk
// envelopes and what becomes of each entry's answer.
func TestDaprAppBulkSubscribe(t *testing.T) {
	const token = "bulk-token"
	funcdApp := startBulkApp(t)
	httpPort := freePort(t)
	dir := appsProject(t, fmt.Sprintf(`  - appID: bulk
    appDirPath: .
    appPort: %d
    daprHTTPPort: %d
`, funcdApp.port, httpPort), parallel, nil)
	startFuncd(t, "", t.TempDir(), nil, "--dir", dir, "--api-token", token)
	publishBulkCases(t, "http://"+addr(httpPort), token)
	waitFor(t, time.Minute, "every bulk case settled under funcd", funcdApp.settled)

	daprdApp := startBulkApp(t)
	res := writeResources(t, map[string]string{"pubsub.yaml": redisComponent("orderpubsub", pubsubtest.StartRedis(t))})
	d := startDaprd(t, daprdOptions{appID: "bulk", resources: res, appPort: daprdApp.port})
	publishBulkCases(t, d.httpURL, "")
	waitFor(t, time.Minute, "every bulk case settled under daprd", daprdApp.settled)

	time.Sleep(4 * time.Second)
	compareBulkApps(t, funcdApp.outcomes(), daprdApp.outcomes(), funcdApp.shape, daprdApp.shape)
	if f, dd := strings.Join(slices.Compact(funcdApp.types), ","), strings.Join(slices.Compact(daprdApp.types), ","); f != dd {
		t.Errorf("Content-Type funcd %s, daprd %s", f, dd)
	}
}

// compareBulkApps checks that each bulk case ended alike under funcd and
// daprd (outcomes by case) and that the requests that carried it had the
// same shape.
func compareBulkApps(t *testing.T, gotFuncd, gotDaprd, shapeFuncd, shapeDaprd map[string]string) {
	t.Helper()
	for c := range bulkCases {
		t.Logf("%-8s funcd: %-26s daprd: %s", c, gotFuncd[c], gotDaprd[c])
		if gotFuncd[c] != gotDaprd[c] {
			t.Errorf("%s: funcd %q, daprd %q", c, gotFuncd[c], gotDaprd[c])
		}
		if shapeFuncd[c] != shapeDaprd[c] {
			t.Errorf("%s: bulk requests differ\nfuncd: %s\ndaprd: %s", c, shapeFuncd[c], shapeDaprd[c])
		}
	}
}
