//go:build cluster

package cluster

import (
	"bufio"
	"context"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
)

const serviceLabel = "serving.knative.dev/service"

// pods is what the API server said of the functions' pods: when each was
// created, became ready and went away, and how many each function had over
// time (sampled every second).
type pods struct {
	mu      sync.Mutex
	byName  map[string]*podLife
	samples []sample
}

type podLife struct {
	fn                      string
	created, ready, deleted time.Time
}

type sample struct {
	at    time.Time
	count map[string]int // function -> pods not deleted
}

// watchPods watches the pods in namespace default; onRunning is called once
// for each order-processor pod whose function container started.
func watchPods(ctx context.Context, t *testing.T, client kubernetes.Interface, tl *timeline, onRunning func(pod, container string)) *pods {
	p := &pods{byName: map[string]*podLife{}}
	watchStart := time.Now()
	f := informers.NewSharedInformerFactoryWithOptions(client, 0, informers.WithNamespace("default"))
	inf := f.Core().V1().Pods().Informer()
	following := map[string]bool{}
	update := func(obj any) {
		pod, ok := obj.(*corev1.Pod)
		if !ok {
			return
		}
		p.mu.Lock()
		defer p.mu.Unlock()
		l := p.byName[pod.Name]
		if l == nil {
			l = &podLife{fn: function(pod), created: time.Now()}
			p.byName[pod.Name] = l
			if pod.CreationTimestamp.Time.Before(watchStart.Add(-time.Second)) {
				tl.Mark("pod %s (there when the watch started)", pod.Name)
			} else {
				tl.Mark("pod %s created", pod.Name)
			}
		}
		if l.ready.IsZero() && podReady(pod) {
			l.ready = time.Now()
			tl.Mark("pod %s ready", pod.Name)
		}
		if l.deleted.IsZero() && pod.DeletionTimestamp != nil {
			l.deleted = time.Now()
			tl.Mark("pod %s terminating", pod.Name)
		}
		if c := container(pod); l.fn == "order-processor" && !following[pod.Name] && started(pod, c) {
			following[pod.Name] = true
			onRunning(pod.Name, c)
		}
	}
	_, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    update,
		UpdateFunc: func(_, o any) { update(o) },
		DeleteFunc: func(o any) {
			if d, ok := o.(cache.DeletedFinalStateUnknown); ok {
				o = d.Obj
			}
			if pod, ok := o.(*corev1.Pod); ok {
				p.mu.Lock()
				if l := p.byName[pod.Name]; l != nil && l.deleted.IsZero() {
					l.deleted = time.Now()
				}
				p.mu.Unlock()
				tl.Mark("pod %s gone", pod.Name)
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	f.Start(ctx.Done())
	if !cache.WaitForCacheSync(ctx.Done(), inf.HasSynced) {
		t.Fatal("pod informer did not sync")
	}
	go p.sample(ctx)
	return p
}

// function names the function a pod runs: its Knative Service, or the app
// label of a plain Deployment (the KEDA variant's order-processor).
func function(pod *corev1.Pod) string {
	if fn := pod.Labels[serviceLabel]; fn != "" {
		return fn
	}
	return pod.Labels["app"]
}

// container is the function's container: Knative's user-container, else the
// one named like the function.
func container(pod *corev1.Pod) string {
	for _, c := range pod.Spec.Containers {
		if c.Name == "user-container" {
			return c.Name
		}
	}
	return function(pod)
}

func podReady(pod *corev1.Pod) bool {
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

func started(pod *corev1.Pod, container string) bool {
	for _, s := range pod.Status.ContainerStatuses {
		if s.Name == container && (s.State.Running != nil || s.State.Terminated != nil) {
			return true
		}
	}
	return false
}

func (p *pods) sample(ctx context.Context) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-tick.C:
			p.mu.Lock()
			p.samples = append(p.samples, sample{at: now, count: p.countLocked()})
			p.mu.Unlock()
		}
	}
}

func (p *pods) countLocked() map[string]int {
	n := map[string]int{}
	for _, l := range p.byName {
		if l.deleted.IsZero() {
			n[l.fn]++
		}
	}
	return n
}

func (p *pods) count(fn string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.countLocked()[fn]
}

func (p *pods) max(fn string) int { return p.maxSince(fn, time.Time{}) }

func (p *pods) maxSince(fn string, since time.Time) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	m := 0
	for _, s := range p.samples {
		if !s.at.Before(since) && s.count[fn] > m {
			m = s.count[fn]
		}
	}
	return m
}

// waitPods waits until fn has exactly n pods (terminating ones count as
// gone), as the API server lists them.
func (c *cluster) waitPods(t *testing.T, fn string, n int, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for c.pods.count(fn) != n {
		if time.Now().After(deadline) {
			t.Fatalf("%s has %d pods after %v, want %d", fn, c.pods.count(fn), timeout, n)
		}
		time.Sleep(200 * time.Millisecond)
	}
	// Read the API server itself, not only the watch.
	list, err := c.client.CoreV1().Pods("default").List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	live := 0
	for _, pod := range list.Items {
		if function(&pod) == fn && pod.DeletionTimestamp == nil {
			live++
		}
	}
	if live != n {
		t.Fatalf("the API server lists %d live %s pods, want %d", live, fn, n)
	}
}

// waitPodReady waits for a pod of fn created after since to be ready, and
// returns its name.
func (c *cluster) waitPodReady(t *testing.T, fn string, since time.Time, timeout time.Duration) string {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		c.pods.mu.Lock()
		for name, l := range c.pods.byName {
			if l.fn == fn && !l.created.Before(since) && !l.ready.IsZero() {
				c.pods.mu.Unlock()
				return name
			}
		}
		c.pods.mu.Unlock()
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("no new %s pod ready within %v", fn, timeout)
	return ""
}

func (c *cluster) readyAt(pod string) time.Time {
	c.pods.mu.Lock()
	defer c.pods.mu.Unlock()
	return c.pods.byName[pod].ready
}

// orderLogs collects the orders order-processor logged, from every pod's
// log, with the time each line was read and the trace id it names.
type orderLogs struct {
	mu     sync.Mutex
	seen   map[int][]time.Time
	traces map[int][]string
}

var (
	received = regexp.MustCompile(`Subscriber received: orderId=(\d+)`)
	traceID  = regexp.MustCompile(`trace_id=([0-9a-f]{32})`)
)

func newOrderLogs() *orderLogs {
	return &orderLogs{seen: map[int][]time.Time{}, traces: map[int][]string{}}
}

// traceIDs are the trace ids of the lines that logged order id.
func (o *orderLogs) traceIDs(id int) []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]string(nil), o.traces[id]...)
}

func (o *orderLogs) follow(ctx context.Context, client kubernetes.Interface, pod, container string) {
	for attempt := 0; attempt < 30 && ctx.Err() == nil; attempt++ {
		req := client.CoreV1().Pods("default").GetLogs(pod, &corev1.PodLogOptions{Container: container, Follow: true})
		rc, err := req.Stream(ctx)
		if err != nil {
			time.Sleep(time.Second)
			continue
		}
		sc := bufio.NewScanner(rc)
		for sc.Scan() {
			if m := received.FindStringSubmatch(sc.Text()); m != nil {
				id, _ := strconv.Atoi(m[1])
				o.mu.Lock()
				o.seen[id] = append(o.seen[id], time.Now())
				if tm := traceID.FindStringSubmatch(sc.Text()); tm != nil {
					o.traces[id] = append(o.traces[id], tm[1])
				}
				o.mu.Unlock()
			}
		}
		rc.Close()
		return // the container ended (pod scaled down or killed)
	}
}

// wait returns when order id was first logged.
func (o *orderLogs) wait(t *testing.T, id int, timeout time.Duration) time.Time {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		o.mu.Lock()
		ts := o.seen[id]
		o.mu.Unlock()
		if len(ts) > 0 {
			return ts[0]
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("order %d not logged by order-processor within %v", id, timeout)
	return time.Time{}
}

// waitAll waits until every id was logged, and returns those that were not.
func (o *orderLogs) waitAll(t *testing.T, ids []int, timeout time.Duration) []int {
	deadline := time.Now().Add(timeout)
	for {
		var missing []int
		o.mu.Lock()
		for _, id := range ids {
			if len(o.seen[id]) == 0 {
				missing = append(missing, id)
			}
		}
		o.mu.Unlock()
		if len(missing) == 0 || time.Now().After(deadline) {
			sort.Ints(missing)
			return missing
		}
		time.Sleep(500 * time.Millisecond)
	}
}

func (o *orderLogs) duplicates(ids []int) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	n := 0
	for _, id := range ids {
		if k := len(o.seen[id]); k > 1 {
			n += k - 1
		}
	}
	return n
}

// timeline is what happened when, for the report at the end.
type timeline struct {
	mu     sync.Mutex
	start  time.Time
	events []event
}

type event struct {
	at   time.Duration
	text string
}

func newTimeline() *timeline { return &timeline{start: time.Now()} }

func (tl *timeline) since() string { return fmt.Sprintf("%6.1fs", time.Since(tl.start).Seconds()) }

// Mark records an event and prints it at once, as progress.
func (tl *timeline) Mark(format string, args ...any) {
	e := event{at: time.Since(tl.start), text: fmt.Sprintf(format, args...)}
	tl.mu.Lock()
	tl.events = append(tl.events, e)
	tl.mu.Unlock()
	fmt.Printf("%8.1fs  %s\n", e.at.Seconds(), e.text)
}

func (tl *timeline) String() string {
	tl.mu.Lock()
	defer tl.mu.Unlock()
	var b strings.Builder
	b.WriteString("timeline (seconds since the test started)\n")
	for _, e := range tl.events {
		fmt.Fprintf(&b, "%8.1fs  %s\n", e.at.Seconds(), e.text)
	}
	return b.String()
}

// chart draws each function's pod count over time, one column per bucket
// of the samples (the highest count in it).
func (p *pods) chart(start time.Time, width int) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.samples) == 0 {
		return ""
	}
	first, last := p.samples[0].at, p.samples[len(p.samples)-1].at
	span := last.Sub(first)
	bucket := max(span/time.Duration(width), time.Second)
	levels := []rune(" ▁▂▃▄▅▆▇█")
	var b strings.Builder
	fmt.Fprintf(&b, "pods over time (one column = %v, from %.0fs to %.0fs)\n", bucket.Round(time.Second),
		first.Sub(start).Seconds(), last.Sub(start).Seconds())
	for _, fn := range []string{"checkout", "funcd-binding", "order-processor"} {
		cols := make([]int, int(span/bucket)+1)
		top := 0
		for _, s := range p.samples {
			i := int(s.at.Sub(first) / bucket)
			cols[i] = max(cols[i], s.count[fn])
			top = max(top, s.count[fn])
		}
		fmt.Fprintf(&b, "  %-16s max %d |", fn, top)
		for _, n := range cols {
			switch {
			case n == 0:
				b.WriteRune('_')
			case top <= 8:
				b.WriteRune(levels[n])
			default:
				b.WriteRune(levels[1+(n-1)*7/(top-1)])
			}
		}
		b.WriteString("|\n")
	}
	return b.String()
}
