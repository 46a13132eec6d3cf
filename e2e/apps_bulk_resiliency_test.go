package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/funcd/funcd/runtime/pubsub/pubsubtest"
)

// bulkRetryCases are the answers of an app with bulk subscribe under a
// Resiliency policy of two retries, and what daprd 1.16 does with each: it
// retries only the entries that failed, with their entry ids, then
// dead-letters those still failing.
var bulkRetryCases = map[string]string{
	"success": "1 attempt, same entry id",
	"flaky":   "2 attempts, same entry id",                // RETRY, then SUCCESS
	"retry":   "3 attempts, same entry id, dead-lettered", // always RETRY
	"missing": "3 attempts, same entry id, dead-lettered", // never a status
	"drop":    "1 attempt, same entry id, dead-lettered",
	"http500": "3 attempts, same entry id, dead-lettered", // the whole call answers 500 (its own topic)
}

const bulkRetrySubscriptions = `[
 {"pubsubname":"orderpubsub","topic":"br","route":"/bulk","deadLetterTopic":"br-dlq",
  "bulkSubscribe":{"enabled":true,"maxMessagesCount":5,"maxAwaitDurationMs":1000}},
 {"pubsubname":"orderpubsub","topic":"bf","route":"/bulk","deadLetterTopic":"br-dlq",
  "bulkSubscribe":{"enabled":true,"maxMessagesCount":5,"maxAwaitDurationMs":1000}},
 {"pubsubname":"orderpubsub","topic":"br-dlq","route":"/dead"}]`

const bulkRetryResiliency = `apiVersion: dapr.io/v1alpha1
kind: Resiliency
metadata:
  name: bulk-retries
spec:
  policies:
    retries:
      twice:
        policy: constant
        duration: 300ms
        maxRetries: 2
  targets:
    components:
      orderpubsub:
        inbound:
          retry: twice
`

// bulkRetryApp answers each bulk entry by its case and records attempts,
// entry ids and dead letters.
type bulkRetryApp struct {
	port     int
	mu       sync.Mutex
	attempts map[string]int
	ids      map[string][]string
	dead     map[string]bool
}

func startBulkRetryApp(t *testing.T) *bulkRetryApp {
	t.Helper()
	a := &bulkRetryApp{attempts: map[string]int{}, ids: map[string][]string{}, dead: map[string]bool{}}
	a.port = serveHTTPApp(t, a.serve)
	return a
}

type caseEvent struct {
	Data struct {
		Case string `json:"case"`
	} `json:"data"`
}

func (a *bulkRetryApp) serve(w http.ResponseWriter, r *http.Request) {
	if answeredBySidecarCalls(w, r, bulkRetrySubscriptions) {
		return
	}
	body, _ := io.ReadAll(r.Body)
	a.mu.Lock()
	defer a.mu.Unlock()
	if r.URL.Path == "/dead" {
		var ev caseEvent
		_ = json.Unmarshal(body, &ev)
		a.dead[ev.Data.Case] = true
		return
	}
	var env struct {
		Entries []struct {
			EntryID string    `json:"entryId"`
			Event   caseEvent `json:"event"`
		} `json:"entries"`
	}
	_ = json.Unmarshal(body, &env)
	var statuses []map[string]string
	failCall := false
	for _, e := range env.Entries {
		c := e.Event.Data.Case
		a.attempts[c]++
		a.ids[c] = append(a.ids[c], e.EntryID)
		status := map[string]string{"success": "SUCCESS", "flaky": "RETRY", "retry": "RETRY", "drop": "DROP"}[c]
		if c == "flaky" && a.attempts[c] > 1 {
			status = "SUCCESS"
		}
		failCall = failCall || c == "http500"
		if status != "" {
			statuses = append(statuses, map[string]string{"entryId": e.EntryID, "status": status})
		}
	}
	if failCall {
		http.Error(w, "failing on purpose", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"statuses": statuses})
}

func (a *bulkRetryApp) outcomes() map[string]string {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := map[string]string{}
	for c := range bulkRetryCases {
		ids := len(slices.Compact(slices.Sorted(slices.Values(a.ids[c]))))
		out[c] = attempts(a.attempts[c]) + ", same entry id"
		if ids != 1 {
			out[c] = fmt.Sprintf("%s, %d entry ids", attempts(a.attempts[c]), ids)
		}
		if a.dead[c] {
			out[c] += ", dead-lettered"
		}
	}
	return out
}

func (a *bulkRetryApp) settled() bool { return sameOutcomes(a.outcomes(), bulkRetryCases) }

func publishBulkRetryCases(t *testing.T, daprURL, token string) {
	t.Helper()
	for _, c := range slices.Sorted(mapsKeys(bulkRetryCases)) {
		topic := "br"
		if c == "http500" {
			topic = "bf"
		}
		publishJSON(t, daprURL, token, topic, fmt.Sprintf(`{"case":%q}`, c))
	}
}

// TestDaprAppBulkResiliency delivers in bulk under a Resiliency retry
// policy through funcd and through the real daprd 1.16 (with Redis), and
// compares what becomes of each entry: retried alone, with its entry id,
// as often as the policy says, then dead-lettered.
func TestDaprAppBulkResiliency(t *testing.T) {
	const token = "bulk-retry-token"
	funcdApp := startBulkRetryApp(t)
	httpPort := freePort(t)
	dir := appsProject(t, fmt.Sprintf(`  - appID: bulkretry
    appDirPath: .
    appPort: %d
    daprHTTPPort: %d
`, funcdApp.port, httpPort), parallel, map[string]string{"resiliency.yaml": bulkRetryResiliency})
	startFuncd(t, "", t.TempDir(), nil, "--dir", dir, "--api-token", token)
	publishBulkRetryCases(t, "http://"+addr(httpPort), token)
	waitFor(t, time.Minute, "every bulk retry case settled under funcd", funcdApp.settled)

	daprdApp := startBulkRetryApp(t)
	res := writeResources(t, map[string]string{"pubsub.yaml": redisComponent("orderpubsub", pubsubtest.StartRedis(t)),
		"resiliency.yaml": bulkRetryResiliency})
	d := startDaprd(t, daprdOptions{appID: "bulkretry", resources: res, appPort: daprdApp.port})
	publishBulkRetryCases(t, d.httpURL, "")
	waitFor(t, time.Minute, "every bulk retry case settled under daprd", daprdApp.settled)

	time.Sleep(4 * time.Second) // nothing more may come: no extra attempt, no redelivery
	gotFuncd, gotDaprd := funcdApp.outcomes(), daprdApp.outcomes()
	for _, c := range slices.Sorted(mapsKeys(bulkRetryCases)) {
		t.Logf("%-8s funcd: %-42s daprd: %s", c, gotFuncd[c], gotDaprd[c])
		if gotFuncd[c] != gotDaprd[c] {
			t.Errorf("%s: funcd %q, daprd %q", c, gotFuncd[c], gotDaprd[c])
		}
		if gotFuncd[c] != bulkRetryCases[c] {
			t.Errorf("%s: funcd %q, want %q", c, gotFuncd[c], bulkRetryCases[c])
		}
	}
}
