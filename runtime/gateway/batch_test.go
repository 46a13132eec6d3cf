package gateway

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestBatch: each event of a batch goes to the function once, in binary
// mode; all 2xx answer 200 with the replies as a batch, otherwise the
// first failure's status and every event's result. An unknown function is
// 404, as when it is called alone.
func TestBatch(t *testing.T) {
	fn := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Header.Get("Ce-Id") {
		case "bad":
			http.Error(w, "no orderId", http.StatusUnprocessableEntity)
		default:
			w.Header().Set("Ce-Id", "re-"+r.Header.Get("Ce-Id"))
			w.Header().Set("Ce-Specversion", "1.0")
			w.Header().Set("Ce-Source", "fn")
			w.Header().Set("Ce-Type", "accepted")
			w.WriteHeader(http.StatusOK)
		}
	}))
	t.Cleanup(fn.Close)
	target := &fakeTarget{urls: map[string]string{"fn": fn.URL}}
	srv := httptest.NewServer(New(Config{Target: target, CloudEvents: func(string) bool { return true }}))
	t.Cleanup(srv.Close)
	batch := func(ids ...string) string {
		evs := make([]string, len(ids))
		for i, id := range ids {
			evs[i] = `{"specversion":"1.0","id":"` + id + `","source":"s","type":"t"}`
		}
		return "[" + strings.Join(evs, ",") + "]"
	}
	post := func(t *testing.T, path, body string) (int, string) {
		t.Helper()
		resp, err := http.Post(srv.URL+path, "application/cloudevents-batch+json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}

	status, body := post(t, "/fn", batch("1", "2"))
	var replies []map[string]any
	if err := json.Unmarshal([]byte(body), &replies); status != http.StatusOK || err != nil || len(replies) != 2 || replies[1]["id"] != "re-2" {
		t.Errorf("all accepted: got %d %s, want 200 with the 2 replies", status, body)
	}

	status, body = post(t, "/fn", batch("1", "bad"))
	var failed struct {
		Results []batchResult `json:"results"`
	}
	if err := json.Unmarshal([]byte(body), &failed); status != http.StatusUnprocessableEntity || err != nil ||
		len(failed.Results) != 2 || failed.Results[0].Status != 200 || failed.Results[1].Error != "no orderId" {
		t.Errorf("one refused: got %d %s, want 422 with both results", status, body)
	}

	status, body = post(t, "/nope", batch("1"))
	if err := json.Unmarshal([]byte(body), &failed); status != http.StatusNotFound || err != nil ||
		len(failed.Results) != 1 || failed.Results[0].Status != http.StatusNotFound {
		t.Errorf("unknown function: got %d %s, want 404 as for a single event", status, body)
	}
}
