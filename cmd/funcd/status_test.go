package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/funcd/funcd/runtime/gateway"
)

func TestStatus(t *testing.T) {
	fns := []gateway.FunctionInfo{
		{Name: "checkout", State: "running", Instances: 1, ColdStarts: 2, ColdStartP50: "56.1ms", ColdStartP99: "58.5ms", Requests: 20},
		{Name: "order-processor", State: "zero", Deliveries: 20, Failures: 1},
	}
	subs := []gateway.SubscriptionInfo{{Name: "order-processor-orders", PubSub: "orderpubsub", Topic: "orders",
		Delivered: 19, Retries: 2, DeadLettered: 1}}
	ports := []gateway.PortInfo{{What: "embedded broker (NATS)", Address: "127.0.0.1:4222", Protected: "token made for this run"}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]any{"functions": fns, "subscriptions": subs, "ports": ports,
			"topics": []gateway.TopicInfo{{Topic: "orders", Messages: 20, Bytes: 9000, MaxAge: "168h0m0s", MaxBytes: 1 << 30, MaxMsgs: 1e6, DuplicateWindow: "30s"}}, "maxTopics": 100})
	}))
	defer srv.Close()
	var out, errOut strings.Builder
	if code := run(t.Context(), []string{"status", "--url", srv.URL}, &out, &errOut); code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 12 {
		t.Fatalf("got %d lines, want a header and 2 functions, a header and 1 subscription, a header and 1 topic, a header and 1 port, blank lines between:\n%s", len(lines), out.String())
	}
	for i, want := range [][]string{
		{"FUNCTION", "STATE", "COLD P99", "DELIVERIES", "FAILURES"},
		{"checkout", "running", "56.1ms", "58.5ms", "20"},
		{"order-processor", "zero", "20", "1"},
		{},
		{"SUBSCRIPTION", "TOPIC", "DELIVERED", "RETRIES", "DEAD-LETTERED", "DROPPED", "RETURNED"},
		{"order-processor-orders", "orderpubsub/orders", "19", "2", "1"},
		{},
		{"TOPIC (1 of at most 100)", "MESSAGES", "BYTES", "KEPT AT MOST", "DUPLICATE WINDOW"},
		{"orders", "20", "9000", "168h0m0s, 1073741824 bytes, 1000000 messages", "30s"},
		{},
		{"PORT", "ADDRESS", "PROTECTED BY"},
		{"embedded broker (NATS)", "127.0.0.1:4222", "token made for this run"},
	} {
		for _, w := range want {
			if !strings.Contains(lines[i], w) {
				t.Errorf("line %d %q: want %q in it", i, lines[i], w)
			}
		}
	}

	srv.Close()
	if code := run(t.Context(), []string{"status", "--url", srv.URL}, &out, &errOut); code != exitFailure || !strings.Contains(errOut.String(), "is funcd up running?") {
		t.Errorf("status with nothing running: exit %d, %q", code, errOut.String())
	}
}

func TestWriteStatusFailures(t *testing.T) {
	tests := []struct {
		name    string
		fns     []gateway.FunctionInfo
		want    []string
		notWant string
	}{
		{
			name: "build failure",
			fns: []gateway.FunctionInfo{{Name: "shipping", State: "zero"},
				{Name: "web", State: "failed", Error: "build web: go build: exit status 1\n./handle.go:3:9: undefined: x"}},
			want: []string{"web       failed", "\nweb failed:\n    build web: go build: exit status 1\n    ./handle.go:3:9: undefined: x\n"},
		},
		{
			name:    "nothing failed",
			fns:     []gateway.FunctionInfo{{Name: "shipping", State: "running", Instances: 1}},
			want:    []string{"shipping  running"},
			notWant: "failed",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out strings.Builder
			if err := writeStatus(&out, tt.fns, nil); err != nil {
				t.Fatal(err)
			}
			for _, w := range tt.want {
				if !strings.Contains(out.String(), w) {
					t.Errorf("got\n%s\nwant %q in it", out.String(), w)
				}
			}
			if tt.notWant != "" && strings.Contains(out.String(), tt.notWant) {
				t.Errorf("got\n%s\nwant no %q", out.String(), tt.notWant)
			}
		})
	}
}
