package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/pprof"
	"runtime/trace"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/funcd/funcd/runtime/broker"
	"github.com/funcd/funcd/runtime/funcbuild"
	"github.com/funcd/funcd/runtime/multiapp"
	"github.com/funcd/funcd/runtime/platform"
	"github.com/funcd/funcd/runtime/tracing"
)

const upExamples = `  funcd up                      # run the project in this folder on http://127.0.0.1:8080
  funcd up --demo               # also replay the 19 demo checkouts
  funcd up --port 0             # pick a free gateway port (printed at start)
  funcd up --grpc-port 50001    # also the Dapr gRPC publish API, for the Dapr SDKs
  funcd up --dir ./my-project --log-level debug
  funcd up -f dapr.yaml         # also run the Dapr apps of a Multi-App Run template (default: <dir>/dapr.yaml when it exists)
`

// upFlags are the flags of funcd up.
type upFlags struct {
	dir, functions, components, data, cache string
	template                                string // -f: a Multi-App Run template
	port, grpcPort, maxTopics               int
	idle                                    time.Duration
	demo, watch                             bool
	logLevel, token, fsync, cpuProfile      string
	execTrace                               string
	sync                                    broker.Sync // fsync, parsed
}

func runUp(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("up", "up [flags]", upExamples, stderr)
	var f upFlags
	fs.StringVar(&f.dir, "dir", ".", "project folder holding functions/ and components/")
	fs.StringVar(&f.functions, "functions", "", "functions folder (default <dir>/functions)")
	fs.StringVar(&f.components, "components", "", "Dapr resources folder (default <dir>/components)")
	fs.StringVar(&f.template, "f", "", "Dapr Multi-App Run template whose apps run next to the functions (default <dir>/dapr.yaml when it exists)")
	fs.StringVar(&f.data, "data", "", "broker data folder (default <dir>/.funcd/data)")
	fs.StringVar(&f.cache, "cache", "", "build cache folder (default: the user cache folder)")
	fs.IntVar(&f.port, "port", 8080, "gateway port on 127.0.0.1 (0 picks a free port)")
	fs.IntVar(&f.grpcPort, "grpc-port", -1, "also serve the gateway's Dapr publish API over gRPC on this port of 127.0.0.1, as daprd's --dapr-grpc-port (0 picks a free port; default: not served)")
	fs.StringVar(&f.fsync, "fsync", broker.DefaultSync().String(), "when the embedded broker's writes reach the disk: always (each publish, before it is acknowledged) or an interval")
	fs.IntVar(&f.maxTopics, "max-topics", broker.DefaultMaxTopics, "most topics the embedded broker keeps (streams of earlier runs count); a publish to one more gets 403")
	fs.DurationVar(&f.idle, "idle", 0, "stop a function's instances after this long without events; 0s: as soon as they are idle (default: its func.yaml annotation, or 30s)")
	fs.BoolVar(&f.watch, "watch", true, "rebuild a function when its sources change and replace its running instances")
	fs.BoolVar(&f.demo, "demo", false, "send the 19 demo orders to checkout once the platform is up")
	fs.StringVar(&f.logLevel, "log-level", "info", "runtime log level: debug, info, warn or error")
	fs.StringVar(&f.cpuProfile, "cpu-profile", "", "write CPU profiles (pprof) of funcd and of every function process into this folder, each when it stops: funcd.pprof, <function>-<pid>.pprof")
	fs.StringVar(&f.execTrace, "exec-trace", "", "write a Go execution trace of funcd (runtime/trace: every goroutine's scheduling, blocking, system calls and collections; open it with go tool trace) into this file, from start to stop; about 1 MB a second under load")
	fs.StringVar(&f.token, "api-token", os.Getenv("DAPR_API_TOKEN"), "require this dapr-api-token to invoke functions and publish through the gateway (default $DAPR_API_TOKEN; the functions' own publish APIs always require a token)")
	if help, err := parse(fs, args); help || err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError(fs, stderr, "unexpected argument "+strconv.Quote(fs.Arg(0)))
	}
	if f.idle < 0 {
		return usageError(fs, stderr, "--idle must not be negative")
	}
	if f.idle == 0 && flagSet(fs, "idle") {
		f.idle = time.Millisecond // as the annotation's "0s": zero means unset below
	}
	var err error
	if f.sync, err = broker.ParseSync(f.fsync); err != nil {
		return usageError(fs, stderr, "--"+err.Error())
	}
	if f.maxTopics < 1 {
		return usageError(fs, stderr, fmt.Sprintf("--max-topics %d: want 1 or more", f.maxTopics))
	}
	if f.port < 0 || f.port > 65535 {
		return usageError(fs, stderr, fmt.Sprintf("--port %d is not a port number", f.port))
	}
	if f.grpcPort < -1 || f.grpcPort > 65535 {
		return usageError(fs, stderr, fmt.Sprintf("--grpc-port %d is not a port number", f.grpcPort))
	}
	if f.cpuProfile != "" {
		if f.cpuProfile, err = filepath.Abs(f.cpuProfile); err != nil {
			return usageError(fs, stderr, "--cpu-profile: "+err.Error())
		}
	}
	if f.execTrace != "" {
		if f.execTrace, err = filepath.Abs(f.execTrace); err != nil {
			return usageError(fs, stderr, "--exec-trace: "+err.Error())
		}
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(f.logLevel)); err != nil {
		return usageError(fs, stderr, fmt.Sprintf("--log-level %q: use debug, info, warn or error", f.logLevel))
	}
	return up(ctx, f, newLogger(stderr, level), stdout, stderr)
}

// loadTemplate reads -f, or <dir>/dapr.yaml when it exists; nil: no apps.
func loadTemplate(f upFlags, stderr io.Writer) (*multiapp.Template, error) {
	path := f.template
	if path == "" {
		path = filepath.Join(f.dir, multiapp.FileName)
		if _, err := os.Stat(path); err != nil {
			return nil, nil
		}
	}
	t, err := multiapp.Load(path)
	if err != nil {
		return nil, err
	}
	for _, w := range t.Warnings {
		fmt.Fprintln(stderr, "funcd: warning:", w)
	}
	return t, nil
}

func up(ctx context.Context, f upFlags, log *slog.Logger, stdout, stderr io.Writer) error {
	started := time.Now()
	defer tuneGC(os.Getenv)()
	stopProfile, err := profileCPU(f.cpuProfile)
	if err != nil {
		return err
	}
	defer stopProfile()
	stopTrace, err := traceExecution(f.execTrace)
	if err != nil {
		return err
	}
	defer stopTrace()
	fmt.Fprintln(stderr, "funcd: starting (building functions on first run may take a minute)")
	tpl, err := loadTemplate(f, stderr)
	if err != nil {
		return err
	}
	p, err := platform.Start(ctx, platform.Config{CPUProfileDir: f.cpuProfile, Apps: tpl,
		Dir: f.dir, FunctionsDir: f.functions, ResourcesDir: f.components, DataDir: f.data,
		CacheDir: f.cache, Idle: f.idle, Watch: f.watch, GatewayAddr: "127.0.0.1:" + strconv.Itoa(f.port), GRPCAddr: grpcAddr(f.grpcPort), APIToken: f.token,
		MaxTopics: f.maxTopics, Fsync: f.sync, Output: stdout, Color: isTerminal(stdout), OnBuild: buildProgress(stderr), Logger: log,
	})
	if err != nil {
		return err
	}
	defer func() {
		fmt.Fprintln(stderr, "funcd: stopping (draining deliveries)")
		stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
		defer cancel()
		if err := p.Stop(stopCtx); err != nil {
			log.Error("stop", "error", err)
		}
		if fns, apps := p.Functions(), p.Apps(); len(fns) == 0 && len(apps) > 0 {
			fmt.Fprintf(stderr, "funcd: stopped after %s; what the apps' subscriptions did:\n", time.Since(started).Round(time.Second))
			_ = writeApps(stderr, apps)
		} else {
			fmt.Fprintf(stderr, "funcd: stopped after %s; what the functions did:\n", time.Since(started).Round(time.Second))
			_ = writeStatus(stderr, fns, p.Subscriptions()) // apps' subscriptions are listed as "<id> (app)"
		}
	}()
	printReady(stderr, p, time.Since(started))
	if f.demo {
		if err := runDemo(ctx, p.GatewayURL(), f.token, stderr); err != nil {
			return err
		}
	}
	<-ctx.Done()
	return nil
}

// profileCPU profiles funcd into dir/funcd.pprof when dir is set; the
// returned func ends the profile.
func profileCPU(dir string) (func(), error) {
	if dir == "" {
		return func() {}, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	return record("cpu profile", filepath.Join(dir, "funcd.pprof"), pprof.StartCPUProfile, pprof.StopCPUProfile)
}

// traceExecution writes a Go execution trace of funcd into path when it is
// set; the returned func ends it. It is how a stall of a few milliseconds
// is told apart: which goroutine ran, which waited and on what, and what
// the collector did meanwhile (docs/costs.md, "The slowest 1%").
func traceExecution(path string) (func(), error) {
	if path == "" {
		return func() {}, nil
	}
	return record("execution trace", path, trace.Start, trace.Stop)
}

// record creates path and starts writing into it with start; the returned
// func stops and closes it. what names the record in errors.
func record(what, path string, start func(io.Writer) error, stop func()) (func(), error) {
	out, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if err := start(out); err != nil {
		out.Close()
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return func() { stop(); out.Close() }, nil
}

// grpcAddr is the gRPC publish API's listen address for --grpc-port:
// empty (not served) for -1.
func grpcAddr(port int) string {
	if port < 0 {
		return ""
	}
	return "127.0.0.1:" + strconv.Itoa(port)
}

func printReady(w io.Writer, p *platform.Platform, took time.Duration) {
	var names, failed []string
	for _, fn := range p.Functions() {
		names = append(names, fn.Name)
		if fn.State == "failed" {
			failed = append(failed, fn.Name)
		}
	}
	var appIDs []string
	for _, a := range p.Apps() {
		appIDs = append(appIDs, a.ID)
	}
	switch {
	case len(names) == 0 && len(appIDs) > 0:
		fmt.Fprintf(w, "funcd: ready in %s — Dapr apps: %s (no functions)\n", took.Round(time.Millisecond), strings.Join(appIDs, ", "))
	case len(appIDs) > 0:
		fmt.Fprintf(w, "funcd: ready in %s — functions: %s (each starts on its first event, stops when idle); Dapr apps: %s\n",
			took.Round(time.Millisecond), strings.Join(names, ", "), strings.Join(appIDs, ", "))
	default:
		fmt.Fprintf(w, "funcd: ready in %s — functions: %s (each starts on its first event, stops when idle)\n",
			took.Round(time.Millisecond), strings.Join(names, ", "))
	}
	if len(failed) > 0 {
		fmt.Fprintf(w, "funcd: not running, their build failed (output above): %s; save a fix and it is built again\n",
			strings.Join(failed, ", "))
	}
	if a := p.GRPCAddr(); a != "" {
		fmt.Fprintf(w, "funcd: dapr grpc publish api on %s\n", a)
	}
	for _, a := range p.Apps() {
		fmt.Fprintf(w, "funcd: app %s: Dapr API on http://127.0.0.1:%d and 127.0.0.1:%d (gRPC)\n", a.ID, a.HTTPPort, a.GRPCPort)
	}
	fmt.Fprintf(w, "funcd: gateway on %s (Ctrl-C to stop)\n", p.GatewayURL())
	if !slices.Contains(names, "checkout") {
		fmt.Fprintf(w, "funcd: try\n  curl %s/    # lists the functions; each is at %s/<name>\n", p.GatewayURL(), p.GatewayURL())
		return
	}
	fmt.Fprintf(w, `funcd: try
  curl -i -X POST %s/checkout \
    -H 'ce-specversion: 1.0' -H 'ce-id: order-100' -H 'ce-source: /curl' -H 'ce-type: com.example.order' \
    -H 'Content-Type: application/json' \
    -d '{"orderId":100,"customerName":"Ada","amount":42.5,"status":"Pending"}'
`, p.GatewayURL())
}

// buildProgress prints each function's build once; the cache checks made
// again when instances start are not repeated.
func buildProgress(w io.Writer) func(funcbuild.BuildEvent) {
	done := map[string]bool{}
	return func(ev funcbuild.BuildEvent) {
		switch ev := ev.(type) {
		case funcbuild.BuildStarted:
			fmt.Fprintf(w, "funcd: building %s ...\n", ev.Function)
		case funcbuild.BuildDone:
			if ev.Cached && done[ev.Function] {
				return
			}
			done[ev.Function] = true
			switch {
			case ev.Err != nil:
				fmt.Fprintf(w, "funcd: build of %s failed after %s:\n%s\n", ev.Function, ev.Took.Round(time.Millisecond), indent(ev.Err.Error()))
			case ev.Cached:
				fmt.Fprintf(w, "funcd: %s is up to date (cached build)\n", ev.Function)
			default:
				fmt.Fprintf(w, "funcd: built %s in %s\n", ev.Function, ev.Took.Round(time.Millisecond))
			}
		}
	}
}

// indent indents every line of s, so a compiler's output stands apart.
func indent(s string) string {
	return "    " + strings.ReplaceAll(strings.TrimSpace(s), "\n", "\n    ")
}

func newLogger(w io.Writer, level slog.Level) *slog.Logger {
	return slog.New(tracing.LogHandler(slog.NewTextHandler(w, &slog.HandlerOptions{
		Level: level,
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if len(groups) == 0 && a.Key == slog.TimeKey {
				return slog.String(slog.TimeKey, a.Value.Time().Format("15:04:05.000"))
			}
			return a
		},
	})))
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0 && os.Getenv("NO_COLOR") == ""
}
