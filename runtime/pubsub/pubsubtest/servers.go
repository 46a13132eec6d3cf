package pubsubtest

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"net"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
)

// RedisInstall is what a test that needs redis-server says when it is missing.
const RedisInstall = "install redis-server (apt-get install -y redis-server)"

// StartRedis runs a real redis-server on a free loopback port, keeping
// nothing on disk, and returns its host:port once it answers PING. The
// server is killed when t ends. Without redis-server on PATH the test fails
// (CI installs it), except under -short, where it is skipped.
func StartRedis(t testing.TB) string {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if testing.Short() {
			t.Skip("redis-server not found; " + RedisInstall)
		}
		t.Fatal("redis-server not found: " + RedisInstall)
	}
	// A free port can be taken by another process between our probe and
	// redis-server's bind; try a few.
	var errs []error
	for range 5 {
		addr, err := startRedis(t, bin)
		if err == nil {
			return addr
		}
		errs = append(errs, err)
	}
	t.Fatalf("start redis-server: %v", errors.Join(errs...))
	return ""
}

func startRedis(t testing.TB, bin string) (string, error) {
	port, err := freePort()
	if err != nil {
		return "", err
	}
	stop, err := runRedis(bin, port, t.TempDir(), false)
	if err != nil {
		return "", err
	}
	t.Cleanup(stop)
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), nil
}

// Redis is a redis-server that keeps its data on disk (append-only file,
// fsync on every write), so a test can kill it and start it again with
// everything it acknowledged.
type Redis struct {
	bin, dir string
	port     int

	mu   sync.Mutex
	stop func() // nil while down
}

// StartDurableRedis runs a Redis the test can Kill and Start again; it is
// killed when t ends.
func StartDurableRedis(t testing.TB) *Redis {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Fatal("redis-server not found: " + RedisInstall)
	}
	r := &Redis{bin: bin, dir: t.TempDir()}
	var errs []error
	for range 5 {
		if r.port, err = freePort(); err == nil {
			if err = r.Start(); err == nil {
				t.Cleanup(r.Kill)
				return r
			}
		}
		errs = append(errs, err)
	}
	t.Fatalf("start redis-server: %v", errors.Join(errs...))
	return nil
}

// Addr is host:port, the same across restarts.
func (r *Redis) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(r.port)) }

// Kill stops the server with SIGKILL and waits for it to exit.
func (r *Redis) Kill() {
	r.mu.Lock()
	stop := r.stop
	r.stop = nil
	r.mu.Unlock()
	if stop != nil {
		stop()
	}
}

// Start starts the server again on the same port and data.
func (r *Redis) Start() error {
	stop, err := runRedis(r.bin, r.port, r.dir, true)
	if err != nil {
		return err
	}
	r.mu.Lock()
	r.stop = stop
	r.mu.Unlock()
	return nil
}

// runRedis starts redis-server on port with its files in dir, durable or
// keeping nothing, waits for PING and returns the func that kills it.
func runRedis(bin string, port int, dir string, durable bool) (stop func(), err error) {
	persistence := []string{"--save", "", "--appendonly", "no"}
	if durable {
		persistence = []string{"--save", "", "--appendonly", "yes", "--appendfsync", "always"}
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	args := append([]string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--dir", dir, "--daemonize", "no"}, persistence...)
	cmd := exec.Command(bin, args...)
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	stop = func() {
		_ = cmd.Process.Signal(syscall.SIGKILL) // only the process started here
		<-exited
	}
	if err := waitPing(addr, exited, 30*time.Second); err != nil {
		stop()
		return nil, fmt.Errorf("redis-server on %s: %w\n%s", addr, err, out)
	}
	return stop, nil
}

// waitPing polls until the server at addr answers PING, it exits, or the
// timeout (generous: the machine may be loaded) passes. redis-server gives
// no readiness signal to wait on (its "Ready to accept connections" log
// line is not an interface), so its answer to PING is the condition polled;
// its exit ends the wait at once.
func waitPing(addr string, exited <-chan struct{}, timeout time.Duration) error {
	deadline := time.After(timeout)
	for {
		err := ping(addr)
		if err == nil {
			return nil
		}
		select {
		case <-exited:
			return errors.New("exited before answering PING")
		case <-deadline:
			return fmt.Errorf("no PONG in %v: %w", timeout, err)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func ping(addr string) error {
	conn, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := conn.Write([]byte("PING\r\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		return err
	}
	if line != "+PONG\r\n" {
		return fmt.Errorf("got %q, want +PONG", line)
	}
	return nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// StartKafka runs an in-process Kafka cluster (franz-go's kfake, which
// speaks the real protocol) with one broker on a free loopback port, creating
// topics on first use with the given number of partitions (at least 1). It
// returns the bootstrap address and closes the cluster when t ends.
func StartKafka(t testing.TB, partitions int) string {
	t.Helper()
	c, err := kfake.NewCluster(
		kfake.NumBrokers(1),
		kfake.Ports(0),
		kfake.AllowAutoTopicCreation(),
		kfake.DefaultNumPartitions(max(partitions, 1)),
	)
	if err != nil {
		t.Fatalf("start kfake: %v", err)
	}
	t.Cleanup(c.Close)
	return c.ListenAddrs()[0]
}

// syncBuffer is a bytes.Buffer safe for a process's output and a reader.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
