//go:build soak

package e2e

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/funcd/funcd/runtime/pubsub/pubsubtest"
)

// make soak runs TestSoak with the defaults; make test with -soak.orders=10000.
var (
	soakOrders   = flag.Int("soak.orders", 100_000, "orders each soak sends through checkout")
	soakDeadline = flag.Duration("soak.deadline", 40*time.Minute, "time each soak may take, kills and draining included")
)

// soakPublishers send orders to checkout at once.
const soakPublishers = 16

// TestSoak sends -soak.orders orders to checkout, on the embedded broker as
// shipped and then on Redis, while SIGKILL hits, every few seconds at
// random, funcd (started again on the same data), a function process
// (checkout or order-processor; the runner starts another) or, on Redis,
// redis-server (started again on its data). A publisher that gets no 200
// from checkout sends the order again, as a caller would. Afterwards every
// order checkout accepted must have been processed; duplicates (the
// at-least-once redeliveries, and orders sent again after an answer was
// lost) are counted, and funcd's RSS and open files are sampled throughout.
func TestSoak(t *testing.T) {
	t.Run("embedded", func(t *testing.T) {
		components := t.TempDir()
		writeComponents(t, components)
		soak(t, components, nil)
	})
	t.Run("redis", func(t *testing.T) {
		r := pubsubtest.StartDurableRedis(t)
		components := t.TempDir()
		writeSoakRedisComponents(t, components, r.Addr())
		soak(t, components, r)
	})
}

// writeSoakRedisComponents writes the project's Subscription and
// orderpubsub on the redis-server at addr as a user would set it for
// deliveries that may meet a killed function: no Resiliency, so the default
// policy (5 retries over about 3.7s, each attempt lowered to fit, here
// 4.3s) rides out function restarts, and a message a killed funcd held is
// claimed again after 30s.
func writeSoakRedisComponents(t *testing.T, dir, addr string) {
	t.Helper()
	writeWithSubscription(t, dir, map[string]string{"pubsub.yaml": redisComponentWith("orderpubsub", addr, 30*time.Second, 2*time.Second)})
}

// soaking is one soak run: the funcd running now, every funcd so far, and
// what was sent and seen.
type soaking struct {
	t          *testing.T
	components string
	data       string
	redis      *pubsubtest.Redis

	mu       sync.Mutex
	current  *funcd
	all      []*funcd
	accepted map[int]bool
	kills    map[string]int
	round    []string // victims left in this round of kills
	samples  []sample
}

// sample is funcd's resident memory and open files at one moment.
type sample struct {
	at       time.Duration
	rssKB    int
	fds      int
	accepted int
}

func soak(t *testing.T, components string, r *pubsubtest.Redis) {
	s := &soaking{t: t, components: components, data: t.TempDir(), redis: r,
		accepted: map[int]bool{}, kills: map[string]int{}}
	s.start()
	began := time.Now()
	ctx, cancel := context.WithTimeout(t.Context(), *soakDeadline)
	defer cancel()
	idle := s.sampleNow(began)

	ids := make(chan int, *soakOrders)
	for id := 1; id <= *soakOrders; id++ {
		ids <- id
	}
	close(ids)
	var publishers sync.WaitGroup
	var resent atomic.Int64
	for range soakPublishers {
		publishers.Go(func() {
			for id := range ids {
				for !s.send(ctx, id) {
					if ctx.Err() != nil {
						return
					}
					resent.Add(1)
					time.Sleep(50 * time.Millisecond)
				}
			}
		})
	}
	sent := make(chan struct{})
	go func() { publishers.Wait(); close(sent) }()
	s.chaos(ctx, sent, began)
	if ctx.Err() != nil {
		t.Fatalf("orders not all accepted within -soak.deadline %s: %d of %d", *soakDeadline, len(s.acceptedIDs()), *soakOrders)
	}
	publishing := time.Since(began)

	accepted := s.acceptedIDs()
	// Wait until order-processor logged every accepted order, or its log
	// stopped growing for 30s: a line it wrote as funcd was killed can be
	// lost in the pipe to funcd while its acknowledgement was not, so the
	// broker has the last word below.
	var unseen []int
	lastLogged, lastChange := -1, time.Now()
	for time.Since(began) < *soakDeadline && time.Since(lastChange) < 30*time.Second {
		seen := s.processed()
		unseen = slices.DeleteFunc(slices.Clone(accepted), func(id int) bool { return seen[id] > 0 })
		if len(unseen) == 0 {
			break
		}
		if len(seen) != lastLogged {
			lastLogged, lastChange = len(seen), time.Now()
		}
		time.Sleep(500 * time.Millisecond)
	}
	drained := time.Since(began)
	time.Sleep(10 * time.Second) // idle after the burst
	after := s.sampleNow(began)
	s.current.kill(syscall.SIGTERM)

	// Every accepted order is a message on the topic; processed means the
	// consumer group acknowledged it, which the binding does only after
	// order-processor answered 2xx.
	st := s.brokerState()
	var lost, unverifiable []int
	for _, id := range unseen {
		switch {
		case st.deadLettered[id]:
			lost = append(lost, id) // acknowledged, but not processed
		case st.stored[id] && st.allAcked:
		case !st.stored[id] && st.discarded && st.allAcked:
			unverifiable = append(unverifiable, id)
		default:
			lost = append(lost, id)
		}
	}

	seen := s.processed()
	dups := 0
	for _, n := range seen {
		dups += n - 1
	}
	peak := slices.MaxFunc(s.samples, func(a, b sample) int { return a.rssKB - b.rssKB })
	peakFDs := slices.MaxFunc(s.samples, func(a, b sample) int { return a.fds - b.fds })
	t.Logf("orders: %d sent, %d accepted by checkout (%d sends again after no 200), all sent in %s, all processed by %s",
		*soakOrders, len(accepted), resent.Load(), publishing.Round(time.Second), drained.Round(time.Second))
	t.Logf("kills (SIGKILL): %s", s.describeKills())
	t.Logf("broker: %d orders kept, %s, %d dead-lettered; %d accepted orders without a log line (written as funcd was killed), %d of them acknowledged",
		len(st.stored), st.describe, len(st.deadLettered), len(unseen), len(unseen)-len(lost)-len(unverifiable))
	t.Logf("lost: %d (%d more not verifiable: retention removed them, all acknowledged); duplicates: %d (processed more than once: redeliveries after kills, orders sent again)",
		len(lost), len(unverifiable), dups)
	t.Logf("funcd RSS: %.1f MB idle at start, %.1f MB at most (with %d orders accepted), %.1f MB idle at the end; open files: %d at start, %d at most, %d at the end (%d samples)",
		mb(idle.rssKB), mb(peak.rssKB), peak.accepted, mb(after.rssKB), idle.fds, peakFDs.fds, after.fds, len(s.samples))
	if len(lost) > 0 {
		t.Errorf("lost %d accepted orders, e.g. %v", len(lost), lost[:min(len(lost), 10)])
	}
	if len(accepted) != *soakOrders {
		t.Errorf("accepted %d orders, want all %d", len(accepted), *soakOrders)
	}
}

// start runs funcd on the soak's resources and data.
func (s *soaking) start() {
	f := startFuncd(s.t, s.components, s.data, nil, "--idle", "1h")
	s.mu.Lock()
	s.current = f
	s.all = append(s.all, f)
	s.mu.Unlock()
}

func (s *soaking) funcd() *funcd {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.current
}

// send posts order id to checkout; true when checkout accepted it.
func (s *soaking) send(ctx context.Context, id int) bool {
	status, _, err := s.funcd().postOrder(ctx, id)
	if err != nil || status != http.StatusOK {
		return false
	}
	s.mu.Lock()
	s.accepted[id] = true
	s.mu.Unlock()
	return true
}

// chaos kills something every 1.5-4 s until sent is closed, and samples
// funcd every 500 ms.
func (s *soaking) chaos(ctx context.Context, sent <-chan struct{}, began time.Time) {
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	next := time.Now().Add(randomWait())
	for {
		select {
		case <-sent:
			return
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		s.sampleNow(began)
		if time.Now().After(next) {
			s.killOne()
			next = time.Now().Add(randomWait())
		}
	}
}

func randomWait() time.Duration { return 1500*time.Millisecond + rand.N(2500*time.Millisecond) }

// killOne kills the next victim of a shuffled round: funcd, a function
// process, or on Redis redis-server, so that a short soak hits each.
func (s *soaking) killOne() {
	s.mu.Lock()
	if len(s.round) == 0 {
		s.round = []string{"funcd", "function", "function"}
		if s.redis != nil {
			s.round = append(s.round, "redis-server")
		}
		rand.Shuffle(len(s.round), func(i, j int) { s.round[i], s.round[j] = s.round[j], s.round[i] })
	}
	victim := s.round[0]
	s.round = s.round[1:]
	s.mu.Unlock()
	f := s.funcd()
	switch victim {
	case "funcd":
		pids := f.functionPIDs()
		f.kill(syscall.SIGKILL)
		waitFor(s.t, 30*time.Second, "function processes to die with funcd", func() bool {
			return !slices.ContainsFunc(pids, func(pid int) bool { return !processGone(pid) })
		})
		s.start()
	case "function":
		alive := slices.DeleteFunc(f.functionPIDs(), processGone)
		if len(alive) == 0 {
			return
		}
		victim = "function process"
		_ = syscall.Kill(alive[rand.N(len(alive))], syscall.SIGKILL)
	case "redis-server":
		s.redis.Kill()
		time.Sleep(500 * time.Millisecond)
		if err := s.redis.Start(); err != nil {
			s.t.Fatalf("start redis-server again: %v", err)
		}
	}
	s.mu.Lock()
	s.kills[victim]++
	s.mu.Unlock()
}

// sampleNow records funcd's RSS and open files.
func (s *soaking) sampleNow(began time.Time) sample {
	f := s.funcd()
	smp := sample{at: time.Since(began), rssKB: rssKB(f.cmd.Process.Pid), fds: openFiles(f.cmd.Process.Pid)}
	s.mu.Lock()
	smp.accepted = len(s.accepted)
	if smp.rssKB > 0 {
		s.samples = append(s.samples, smp)
	}
	s.mu.Unlock()
	return smp
}

func (s *soaking) acceptedIDs() []int {
	s.mu.Lock()
	defer s.mu.Unlock()
	ids := make([]int, 0, len(s.accepted))
	for id := range s.accepted {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// processed adds up what order-processor logged under every funcd so far.
func (s *soaking) processed() map[int]int {
	s.mu.Lock()
	all := slices.Clone(s.all)
	s.mu.Unlock()
	total := map[int]int{}
	for _, f := range all {
		for id, n := range f.received() {
			total[id] += n
		}
	}
	return total
}

func (s *soaking) describeKills() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var parts []string
	n := 0
	for _, v := range []string{"funcd", "function process", "redis-server"} {
		if k := s.kills[v]; k > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", v, k))
			n += k
		}
	}
	return fmt.Sprintf("%d (%s)", n, strings.Join(parts, ", "))
}

// rssKB is a process's resident memory in KB (VmRSS), 0 when it is gone.
func rssKB(pid int) int {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			n, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
			return n
		}
	}
	return 0
}

// openFiles counts a process's open file descriptors.
func openFiles(pid int) int {
	d, err := os.Open("/proc/" + strconv.Itoa(pid) + "/fd")
	if err != nil {
		return 0
	}
	defer d.Close()
	names, _ := d.Readdirnames(-1)
	return len(names)
}
