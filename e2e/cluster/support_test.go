//go:build cluster

package cluster

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

// cluster is the local cluster under test and what the test saw of it.
type cluster struct {
	script     string   // cluster.sh
	env        []string // the environment cluster.sh env gives
	timeline   *timeline
	client     kubernetes.Interface
	pods       *pods
	logs       *orderLogs
	checkout   string // checkout's host, as its Knative URL names it
	ingressURL string
	nextID     atomic.Int64
	coldStart  time.Duration
	firstOrder time.Duration
	stop       context.CancelFunc
}

func newCluster(t *testing.T) *cluster {
	script, err := filepath.Abs("cluster.sh")
	if err != nil {
		t.Fatal(err)
	}
	c := &cluster{script: script, timeline: newTimeline(), logs: newOrderLogs()}
	// Order ids unique across runs on a kept cluster.
	c.nextID.Store(time.Now().Unix() % 100000 * 10000)
	return c
}

func (c *cluster) nextOrder() int { return int(c.nextID.Add(1)) }

// run runs cluster.sh with args, its output streamed into the test log.
func (c *cluster) run(t *testing.T, args ...string) {
	t.Helper()
	cmd := exec.Command("bash", append([]string{c.script}, args...)...)
	cmd.Env = append(os.Environ(), c.env...)
	out, _ := cmd.StdoutPipe()
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		fmt.Fprintf(os.Stderr, "    %s | %s\n", c.timeline.since(), sc.Text())
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("cluster.sh %s: %v", strings.Join(args, " "), err)
	}
}

// up starts the cluster (stopped again at the end unless KEEP_CLUSTER is
// set) and reads its environment.
func (c *cluster) up(t *testing.T) {
	c.timeline.Mark("cluster.sh up")
	t.Cleanup(func() {
		if c.stop != nil {
			c.stop()
		}
		if os.Getenv("KEEP_CLUSTER") != "" {
			t.Logf("KEEP_CLUSTER is set: the cluster stays up (%s down stops it)", c.script)
			return
		}
		c.run(t, "down")
	})
	c.run(t, "up")
	c.timeline.Mark("cluster up")
	out, err := exec.Command("bash", "-c", `eval "$("$0" env)" && env -0`, c.script).Output()
	if err != nil {
		t.Fatalf("cluster.sh env: %v", err)
	}
	for _, kv := range strings.Split(strings.TrimRight(string(out), "\x00"), "\x00") {
		c.env = append(c.env, kv)
		if v, ok := strings.CutPrefix(kv, "INGRESS_URL="); ok {
			c.ingressURL = v
		}
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", c.getenv("KUBECONFIG"))
	if err != nil {
		t.Fatal(err)
	}
	if c.client, err = kubernetes.NewForConfig(cfg); err != nil {
		t.Fatal(err)
	}
}

func (c *cluster) getenv(k string) string {
	for i := len(c.env) - 1; i >= 0; i-- {
		if v, ok := strings.CutPrefix(c.env[i], k+"="); ok {
			return v
		}
	}
	return ""
}

// tool finds a command on the PATH cluster.sh env gives (its kubectl, helm).
func (c *cluster) tool(t *testing.T, name string) string {
	for _, dir := range filepath.SplitList(c.getenv("PATH")) {
		p := filepath.Join(dir, name)
		if st, err := os.Stat(p); err == nil && st.Mode()&0o111 != 0 {
			return p
		}
	}
	t.Fatalf("%s is not on the cluster's PATH", name)
	return ""
}

// setup runs deploy/setup.sh into the cluster with the given settings.
func (c *cluster) setup(t *testing.T, vars ...string) {
	t0 := time.Now()
	c.timeline.Mark("deploy/setup.sh %s", strings.Join(vars, " "))
	c.run(t, append([]string{"setup"}, vars...)...)
	c.timeline.Mark("deploy/setup.sh done in %.0fs", time.Since(t0).Seconds())
	c.checkout = strings.TrimPrefix(c.kubectl(t, "get", "ksvc", "checkout", "-o", "jsonpath={.status.url}"), "http://")
}

// kubectl runs kubectl against the cluster and returns its trimmed output.
func (c *cluster) kubectl(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.Command(c.tool(t, "kubectl"), append([]string{"-n", "default"}, args...)...)
	cmd.Env = append(os.Environ(), c.env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return strings.TrimSpace(string(out))
}

// watch follows the pods of the functions from the API server, and the log
// of every order-processor pod, until the test ends.
func (c *cluster) watch(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	c.stop = cancel
	c.pods = watchPods(ctx, t, c.client, c.timeline, func(pod, container string) {
		go c.logs.follow(ctx, c.client, pod, container)
	})
}

// order sends one order to checkout through the ingress with curl, as a
// binary-mode CloudEvent (with more headers, if given), and returns the
// HTTP status.
func (c *cluster) order(t *testing.T, id int, headers ...string) int {
	t.Helper()
	args := []string{"-s", "-o", "/dev/null", "-w", "%{http_code}", "-m", "60",
		c.ingressURL + "/", "-H", "Host: " + c.checkout,
		"-H", "ce-specversion: 1.0", "-H", fmt.Sprintf("ce-id: order-%d", id), "-H", "ce-source: /curl",
		"-H", "ce-type: com.example.order", "-H", "Content-Type: application/json",
		"-d", fmt.Sprintf(`{"orderId":%d,"customerName":"Ada","amount":42.5}`, id)}
	for _, h := range headers {
		args = append(args, "-H", h)
	}
	out, err := exec.Command("curl", args...).Output()
	if err != nil {
		t.Fatalf("curl: %v", err)
	}
	var status int
	fmt.Sscan(string(out), &status)
	return status
}

// load sends orders to checkout through the ingress from several
// goroutines, as many users' curls would.
type load struct {
	start time.Time
	mu    sync.Mutex
	ok    []int
	fails map[int]int // status -> count
	done  chan struct{}
}

func (c *cluster) startLoad(t *testing.T, n, workers int) *load {
	l := &load{start: time.Now(), fails: map[int]int{}, done: make(chan struct{})}
	ids := make(chan int)
	client := &http.Client{Timeout: 60 * time.Second}
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for id := range ids {
				status := post(client, c.ingressURL, c.checkout, id)
				l.mu.Lock()
				if status == http.StatusOK {
					l.ok = append(l.ok, id)
				} else {
					l.fails[status]++
				}
				l.mu.Unlock()
			}
		}()
	}
	go func() {
		for range n {
			ids <- c.nextOrder()
		}
		close(ids)
		wg.Wait()
		close(l.done)
	}()
	c.timeline.Mark("load: %d orders from %d senders", n, workers)
	return l
}

func post(client *http.Client, url, host string, id int) int {
	req, _ := http.NewRequest(http.MethodPost, url+"/",
		strings.NewReader(fmt.Sprintf(`{"orderId":%d,"customerName":"Ada","amount":42.5}`, id)))
	req.Host = host
	for k, v := range map[string]string{"ce-specversion": "1.0", "ce-id": fmt.Sprintf("order-%d", id),
		"ce-source": "/load", "ce-type": "com.example.order", "Content-Type": "application/json"} {
		req.Header.Set(k, v)
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

func (l *load) finished() bool {
	select {
	case <-l.done:
		return true
	default:
		return false
	}
}

func (l *load) accepted() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.ok)
}

func (l *load) waitAccepted(t *testing.T, n int, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for l.accepted() < n {
		if time.Now().After(deadline) {
			t.Fatalf("only %d orders accepted after %v (failures by status: %v)", l.accepted(), timeout, l.fails)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// wait returns the accepted orders once every order was sent.
func (l *load) wait(t *testing.T, timeout time.Duration) []int {
	t.Helper()
	select {
	case <-l.done:
	case <-time.After(timeout):
		t.Fatalf("load not done after %v", timeout)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.fails) > 0 {
		t.Logf("orders not accepted, by status (0: no answer): %v", l.fails)
	}
	return append([]int(nil), l.ok...)
}

// activatorEndpoints: whether the revision's Service sends its requests to
// the activator (the serverless service's proxy mode).
func (c *cluster) activatorEndpoints(t *testing.T, fn string) bool {
	rev := c.kubectl(t, "get", "ksvc", fn, "-o", "jsonpath={.status.latestReadyRevisionName}")
	eps := strings.Fields(c.kubectl(t, "get", "endpointslices", "-l", "kubernetes.io/service-name="+rev,
		"-o", "jsonpath={.items[*].endpoints[*].addresses[*]}"))
	act := c.kubectl(t, "get", "pods", "-n", "knative-serving", "-l", "app=activator", "-o", "jsonpath={.items[*].status.podIP}")
	for _, ip := range eps {
		if strings.Contains(" "+act+" ", " "+ip+" ") {
			return true
		}
	}
	return false
}
