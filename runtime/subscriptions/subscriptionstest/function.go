package subscriptionstest

import (
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
)

// call is one delivery as the function's answer policy sees it.
type call struct {
	id      string // CloudEvent id
	attempt int    // 1 for the first delivery of this id
	seq     int    // 1 for the first request the function got
}

// request is one request the function received and its answer.
type request struct {
	id     string
	header http.Header
	body   []byte
	status int
}

// answer is what the function answers a call with.
type answer struct {
	status int
	header map[string]string // e.g. ce-* headers of a reply event
	body   string
}

// function is an httptest CloudEvent function that answers by policy and
// records every delivery.
type function struct {
	srv    *httptest.Server
	answer func(call) answer

	mu          sync.Mutex
	deliveries  []request
	attempts    map[string]int
	inflight    int
	maxInflight int
}

// always answers every call with status and no body.
func always(status int) func(call) answer { return func(call) answer { return answer{status: status} } }

func startFunction(t *testing.T, answer func(call) answer) *function {
	t.Helper()
	f := &function{answer: answer, attempts: map[string]int{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *function) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	id := r.Header.Get("Ce-Id")
	f.mu.Lock()
	f.inflight++
	f.maxInflight = max(f.maxInflight, f.inflight)
	f.attempts[id]++
	c := call{id: id, attempt: f.attempts[id], seq: len(f.deliveries) + 1}
	f.deliveries = append(f.deliveries, request{id: id, header: r.Header.Clone(), body: body})
	i := len(f.deliveries) - 1
	f.mu.Unlock()

	a := f.answer(c)

	f.mu.Lock()
	f.deliveries[i].status = a.status
	f.inflight--
	f.mu.Unlock()
	for k, v := range a.header {
		w.Header().Set(k, v)
	}
	w.WriteHeader(a.status)
	_, _ = io.WriteString(w, a.body)
}

// all returns every delivery so far.
func (f *function) all() []request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]request(nil), f.deliveries...)
}

// calls returns how many times id was delivered.
func (f *function) calls(id string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.attempts[id]
}

// accepted counts, per id, the deliveries the function answered with 2xx.
func (f *function) accepted() map[string]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string]int{}
	for _, d := range f.deliveries {
		if d.status >= 200 && d.status < 300 {
			out[d.id]++
		}
	}
	return out
}

// peak returns the most deliveries the function handled at once.
func (f *function) peak() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.maxInflight
}
