//go:build bench

package e2e

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"
)

// benchSystem is one running system under load: where publishers send
// orders, and the processes whose CPU an order costs.
type benchSystem struct {
	httpURL  string // the Dapr HTTP publish URL of orderpubsub/orders
	gateway  string // funcd's gateway URL; empty for the seed
	grpcAddr string // the Dapr gRPC API
	rec      *receiver
	procs    []benchProc // roots; their descendants count as theirs
}

// benchProc is a process whose CPU is counted under label, its
// descendants' under children.
type benchProc struct {
	label, children string
	pid             int
}

// startFuncdSystem runs bin/funcd up as users run it: the project's
// functions and components/ as shipped, a fresh broker data folder (in
// -bench.data, when set), the gateway's Dapr publish API over HTTP and gRPC.
func startFuncdSystem(t *testing.T, bin string, flags ...string) *benchSystem {
	root, _ := filepath.Abs("..")
	rec := newReceiver()
	data := t.TempDir()
	if *benchData != "" {
		var err error
		if data, err = os.MkdirTemp(*benchData, "funcd-bench-"); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = os.RemoveAll(data) })
	}
	args := []string{bin, "up", "--dir", root, "--port", "0", "--grpc-port", "0", "--data", filepath.Join(data, "data")}
	if *benchProfile != "" {
		args = append(args, "--cpu-profile", filepath.Join(*benchProfile, t.Name()))
	}
	if *benchExecTrace != "" {
		trace := filepath.Join(*benchExecTrace, t.Name()+".trace")
		if err := os.MkdirAll(filepath.Dir(trace), 0o755); err != nil {
			t.Fatal(err)
		}
		args = append(args, "--exec-trace", trace)
	}
	args = append(args, flags...)
	p := startProcLines(t, "funcd", root, nil, rec.line, args...)
	grpcAddr := p.waitLine(t, regexp.MustCompile(`dapr grpc publish api on (\S+)`), 5*time.Minute)[1]
	gw := p.waitLine(t, regexp.MustCompile(`gateway on (http://\S+)`), time.Minute)[1]
	return &benchSystem{
		httpURL:  gw + "/v1.0/publish/orderpubsub/orders",
		gateway:  gw,
		grpcAddr: grpcAddr,
		rec:      rec,
		procs:    []benchProc{{"funcd", "function processes (order-processor)", p.cmd.Process.Pid}},
	}
}

// startSeedSystem runs the seed architecture: redis-server, the Go
// subscriber behind its daprd (app id order-processor), and a daprd for the
// publishers (app id checkout), with the seed's Redis Component: Dapr's
// defaults (concurrency 10).
func startSeedSystem(t *testing.T, subBin string) *benchSystem {
	redis, redisAddr := startRedisProc(t)
	res := writeResources(t, map[string]string{"pubsub.yaml": redisComponentWith("orderpubsub", redisAddr, 0, 0)})
	rec := newReceiver()
	appPort := freePort(t)
	sub := startProcLines(t, "seedsub", t.TempDir(), nil, rec.line, subBin, "-addr", addr(appPort))
	subd := startDaprd(t, daprdOptions{appID: "order-processor", resources: res, appPort: appPort, health: "/healthz"})
	pubd := startDaprd(t, daprdOptions{appID: "checkout", resources: res})
	return &benchSystem{
		httpURL:  pubd.httpURL + "/v1.0/publish/orderpubsub/orders",
		grpcAddr: pubd.grpcAddr,
		rec:      rec,
		procs: []benchProc{{"daprd (publisher)", "", pubd.cmd.Process.Pid}, {"redis-server", "", redis.cmd.Process.Pid},
			{"daprd (subscriber)", "", subd.cmd.Process.Pid}, {"subscriber (Go, Dapr SDK)", "", sub.cmd.Process.Pid}},
	}
}
