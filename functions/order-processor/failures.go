package function

import "sync"

// maxRemembered bounds the orders failures counts at once.
const maxRemembered = 10000

// failures counts the deliveries of each order, for FAIL_FIRST.
type failures struct {
	mu   sync.Mutex
	seen map[int]int
}

// fail reports whether this delivery of order id is one of its first n,
// which fail on purpose.
func (f *failures) fail(id, n int) bool {
	if n <= 0 {
		return false
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.seen == nil || len(f.seen) >= maxRemembered {
		f.seen = map[int]int{}
	}
	f.seen[id]++
	if f.seen[id] > n {
		delete(f.seen, id)
		return false
	}
	return true
}
