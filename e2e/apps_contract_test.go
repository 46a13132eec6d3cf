package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/funcd/funcd/runtime/pubsub/pubsubtest"
)

// appCase is one answer a Dapr app can give, and what daprd 1.16 does
// with it on a topic with a deadLetterTopic ("c-dl") and on one without
// ("c-nodl"): the attempts the app sees (a retried message is answered
// SUCCESS the second time) and whether the message reaches the
// dead-letter topic.
type appCase struct {
	name     string
	status   int
	body     string
	withDL   string
	withoutD string
}

var appCases = []appCase{
	{"200-empty", 200, "", "1 attempt", "1 attempt"},
	{"204", 204, "", "1 attempt", "1 attempt"},
	{"200-not-json", 200, "ok", "1 attempt", "1 attempt"},
	{"success", 200, `{"status":"SUCCESS"}`, "1 attempt", "1 attempt"},
	{"empty-status", 200, `{"status":""}`, "1 attempt", "1 attempt"},
	{"no-status", 200, `{"success":true}`, "1 attempt", "1 attempt"},
	{"status-not-string", 200, `{"status":1}`, "1 attempt", "1 attempt"},
	{"retry", 200, `{"status":"RETRY"}`, "1 attempt, dead-lettered", "2 attempts"},
	{"unknown-status", 200, `{"status":"shipped"}`, "1 attempt, dead-lettered", "2 attempts"},
	{"drop", 200, `{"status":"DROP"}`, "1 attempt, dead-lettered", "1 attempt"},
	{"404", 404, "", "1 attempt", "1 attempt"},
	{"400", 400, "", "1 attempt, dead-lettered", "2 attempts"},
	{"500", 500, "", "1 attempt, dead-lettered", "2 attempts"},
	{"503", 503, `{"status":"SUCCESS"}`, "1 attempt, dead-lettered", "2 attempts"},
}

// contractApp is a Dapr app in the test process: it subscribes
// programmatically to c-dl (dead-lettering to c-dlq), c-nodl and c-dlq,
// answers each event as its case says, and records what it received.
type contractApp struct {
	port     int
	mu       sync.Mutex
	attempts map[string]int    // topic/case -> attempts
	dead     map[string]bool   // case -> seen on c-dlq
	first    map[string][]byte // topic/case -> first envelope
	types    map[string]string // topic/case -> Content-Type
	declared int               // events on the declarative subscription
}

const contractSubscriptions = `[
 {"pubsubname":"orderpubsub","topic":"c-dl","route":"/answer","deadLetterTopic":"c-dlq"},
 {"pubsubname":"orderpubsub","topic":"c-nodl","routes":{"default":"/answer"}},
 {"pubsubname":"orderpubsub","topic":"c-dlq","route":"dead"}]`

// contractDeclared is a declarative Subscription scoped to the app.
const contractDeclared = `apiVersion: dapr.io/v2alpha1
kind: Subscription
metadata:
  name: contract-declared
spec:
  pubsubname: orderpubsub
  topic: c-decl
  routes:
    default: /declared
scopes:
- contract
`

func startContractApp(t *testing.T) *contractApp {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	a := &contractApp{port: l.Addr().(*net.TCPAddr).Port, attempts: map[string]int{}, dead: map[string]bool{},
		first: map[string][]byte{}, types: map[string]string{}}
	srv := &http.Server{Handler: http.HandlerFunc(a.serve), ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return a
}

func (a *contractApp) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodGet {
		if r.URL.Path == "/health/readiness" { // daprd's app health check in startDaprd
			return
		}
		if r.URL.Path == "/dapr/subscribe" {
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, contractSubscriptions)
			return
		}
		http.NotFound(w, r)
		return
	}
	body, _ := io.ReadAll(r.Body)
	var ev struct {
		Topic string `json:"topic"`
		Data  struct {
			Case string `json:"case"`
		} `json:"data"`
	}
	_ = json.Unmarshal(body, &ev)
	a.mu.Lock()
	defer a.mu.Unlock()
	switch r.URL.Path {
	case "/dead":
		a.dead[ev.Data.Case] = true
		return
	case "/declared":
		a.declared++
		return
	}
	key := ev.Topic + "/" + ev.Data.Case
	a.attempts[key]++
	if a.attempts[key] > 1 {
		io.WriteString(w, `{"status":"SUCCESS"}`)
		return
	}
	a.first[key], a.types[key] = body, r.Header.Get("Content-Type")
	for _, c := range appCases {
		if c.name == ev.Data.Case {
			w.WriteHeader(c.status)
			io.WriteString(w, c.body)
			return
		}
	}
}

// outcomes describes what happened to each case on each topic.
func (a *contractApp) outcomes() map[string]string {
	a.mu.Lock()
	defer a.mu.Unlock()
	names := make([]string, len(appCases))
	for i, c := range appCases {
		names[i] = c.name
	}
	return describeOutcomes(names, a.attempts, a.dead)
}

// describeOutcomes describes, by "topic/case", what happened to each case
// on the topics with ("c-dl") and without ("c-nodl") a deadLetterTopic:
// "1 attempt", "2 attempts, dead-lettered"...
func describeOutcomes(cases []string, attempts map[string]int, dead map[string]bool) map[string]string {
	out := map[string]string{}
	for _, c := range cases {
		for _, topic := range []string{"c-dl", "c-nodl"} {
			n := attempts[topic+"/"+c]
			s := fmt.Sprintf("%d attempt", n)
			if n != 1 {
				s += "s"
			}
			if topic == "c-dl" && dead[c] {
				s += ", dead-lettered"
			}
			out[topic+"/"+c] = s
		}
	}
	return out
}

func (a *contractApp) settled() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	n := 0
	for _, c := range appCases {
		if a.attempts["c-dl/"+c.name] > 0 && (!strings.Contains(c.withDL, "dead") || a.dead[c.name]) &&
			a.attempts["c-nodl/"+c.name] >= strings.Count(c.withoutD+" ", "2 ")+1 {
			n++
		}
	}
	return n == len(appCases) && a.declared > 0
}

// publishAppCases publishes every case to both topics, and one event to the
// declarative subscription, through a Dapr HTTP API.
func publishAppCases(t *testing.T, daprURL, token string) {
	t.Helper()
	for _, topic := range []string{"c-dl", "c-nodl", "c-decl"} {
		for _, c := range appCases {
			publishJSON(t, daprURL, token, topic, fmt.Sprintf(`{"case":%q}`, c.name))
			if topic == "c-decl" {
				break
			}
		}
	}
}

// TestDaprAppContract sends every answer a Dapr app can give through funcd
// and through the real daprd 1.16 (with Redis), and compares the envelopes
// the app receives and what becomes of each message.
func TestDaprAppContract(t *testing.T) {
	const token = "contract-token"
	want := map[string]string{}
	for _, c := range appCases {
		want["c-dl/"+c.name], want["c-nodl/"+c.name] = c.withDL, c.withoutD
	}

	// funcd: the app runs outside funcd (no command), on its port.
	funcdApp := startContractApp(t)
	httpPort := freePort(t)
	dir := appsProject(t, fmt.Sprintf(`  - appID: contract
    appDirPath: .
    appPort: %d
    daprHTTPPort: %d
`, funcdApp.port, httpPort), map[string]string{"ackWait": "2s"}, map[string]string{"subscription.yaml": contractDeclared})
	startFuncd(t, "", t.TempDir(), nil, "--dir", dir, "--api-token", token)
	// The app's Dapr API takes no write without its token.
	for _, bad := range []string{"", "wrong"} {
		if code, _ := tokenCall(t, "http://"+addr(httpPort)+"/v1.0/publish/orderpubsub/c-dl", bad); code != http.StatusUnauthorized {
			t.Errorf("publish with token %q: %d, want 401", bad, code)
		}
	}
	publishAppCases(t, "http://"+addr(httpPort), token)
	waitFor(t, 60*time.Second, "every case settled under funcd", funcdApp.settled)

	// daprd with Redis: the same app, the same declarative Subscription.
	daprdApp := startContractApp(t)
	res := writeResources(t, map[string]string{"pubsub.yaml": redisComponent("orderpubsub", pubsubtest.StartRedis(t)),
		"subscription.yaml": contractDeclared})
	d := startDaprd(t, daprdOptions{appID: "contract", resources: res, appPort: daprdApp.port})
	publishAppCases(t, d.httpURL, "")
	waitFor(t, 60*time.Second, "every case settled under daprd", daprdApp.settled)

	time.Sleep(5 * time.Second) // longer than both redelivery timeouts: no stray attempt may follow
	gotFuncd, gotDaprd := funcdApp.outcomes(), daprdApp.outcomes()
	var table strings.Builder
	for _, key := range slices.Sorted(maps.Keys(want)) {
		mark := ""
		if gotFuncd[key] != want[key] || gotDaprd[key] != want[key] {
			mark = "  <-- differs"
			t.Fail()
		}
		fmt.Fprintf(&table, "%-26s funcd: %-26s daprd: %-26s want: %s%s\n", key, gotFuncd[key], gotDaprd[key], want[key], mark)
	}
	t.Logf("outcomes:\n%s", table.String())
	for key := range want {
		f, dd := funcdApp.first[key], daprdApp.first[key]
		if f == nil || dd == nil {
			continue // reported above
		}
		if cf, cd := comparable(t, f, false), comparable(t, dd, false); cf != cd {
			t.Errorf("%s: envelopes differ\nfuncd: %s\ndaprd: %s", key, cf, cd)
		}
		if funcdApp.types[key] != daprdApp.types[key] {
			t.Errorf("%s: Content-Type funcd %q, daprd %q", key, funcdApp.types[key], daprdApp.types[key])
		}
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// publishJSON publishes one JSON event through a Dapr HTTP API.
func publishJSON(t *testing.T, daprURL, token, topic, body string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, daprURL+"/v1.0/publish/orderpubsub/"+topic, bytes.NewReader([]byte(body)))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("dapr-api-token", token)
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("publish %s to %s: %s", body, topic, resp.Status)
	}
}
