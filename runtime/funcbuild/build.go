package funcbuild

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"
)

// Builder compiles functions into cached binaries. A Builder is safe for
// concurrent use.
type Builder struct {
	cfg    Config
	logger *slog.Logger

	reportMu sync.Mutex // serializes cfg.OnBuild

	toolchainMu sync.Mutex
	toolchain   string // `go env` of toolchainEnv, once known

	sumsMu sync.Mutex
	sums   map[string]stampedSum // by function folder
}

// stampedSum is a function folder's source hash and the Stamp it was read
// at: while the Stamp is the same, so are the build inputs, and every
// instance start (each cold start) reads the folder's file metadata only,
// not its contents. funcd's watcher relies on the same Stamp to notice an
// edit.
type stampedSum struct {
	stamp, toolchain, sum string
}

// New returns a Builder for cfg, logging build cache maintenance to logger;
// nil discards it.
func New(cfg Config, logger *slog.Logger) (*Builder, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("build config: %w", err)
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Builder{cfg: cfg, logger: logger}, nil
}

// BuildEvent is progress reported to Config.OnBuild: BuildStarted or
// BuildDone.
type BuildEvent interface{ buildEvent() }

// BuildStarted reports that a function is being compiled. A cache hit
// reports only BuildDone.
type BuildStarted struct {
	Function string
}

// BuildDone reports the end of a build, successful or not.
type BuildDone struct {
	Function string
	Binary   string        // path of the built binary, when Err is nil
	Cached   bool          // the binary was already in the cache
	Took     time.Duration // including hashing the sources
	Err      error
}

func (BuildStarted) buildEvent() {}
func (BuildDone) buildEvent()    {}

// Build builds every function in fns, at most Config.BuildJobs at a time,
// skipping those whose binary is cached. It returns the errors of all
// failed builds, each including the compiler's output.
func (b *Builder) Build(ctx context.Context, fns []Function) error {
	return errors.Join(b.BuildEach(ctx, fns)...)
}

// BuildEach is Build with one result per function: errs[i] is nil when
// fns[i] built (or was cached), else its build error.
func (b *Builder) BuildEach(ctx context.Context, fns []Function) (errs []error) {
	var g errgroup.Group
	g.SetLimit(b.cfg.BuildJobs)
	errs = make([]error, len(fns))
	for i, fn := range fns {
		g.Go(func() error {
			_, errs[i] = b.Ensure(ctx, fn)
			return nil
		})
	}
	_ = g.Wait() // the goroutines report through errs
	b.trim()
	return errs
}

// Ensure returns the path of fn's binary, compiling it unless it is cached.
func (b *Builder) Ensure(ctx context.Context, fn Function) (string, error) {
	start := time.Now()
	bin, err := b.binaryPath(ctx, fn)
	if err == nil {
		if _, statErr := os.Stat(bin); statErr == nil {
			markUsed(bin, time.Now())
			b.report(BuildDone{Function: fn.Name, Binary: bin, Cached: true, Took: time.Since(start)})
			return bin, nil
		}
		b.report(BuildStarted{Function: fn.Name})
		err = b.compile(ctx, fn, bin)
	}
	if err != nil {
		err = fmt.Errorf("build %s: %w", fn.Name, err)
		bin = ""
	}
	b.report(BuildDone{Function: fn.Name, Binary: bin, Took: time.Since(start), Err: err})
	return bin, err
}

// trim removes the builds unused for TrimAfter, at most once a day.
func (b *Builder) trim() {
	n, freed, err := trimCache(b.cfg.CacheDir, time.Now())
	if err != nil {
		b.logger.Warn("trim the build cache", "dir", b.cfg.CacheDir, "error", err)
	}
	if n > 0 {
		b.logger.Info("build cache trimmed", "dir", b.cfg.CacheDir, "removed", n, "freed_mb", freed>>20, "unused_for", TrimAfter)
	}
}

// Binary returns the path fn's current sources build to, whether or not
// that build exists yet: a different path means different build inputs.
func (b *Builder) Binary(ctx context.Context, fn Function) (string, error) {
	return b.binaryPath(ctx, fn)
}

// binaryPath is where fn's binary is cached: <cache>/<name>-<hash>/f.
func (b *Builder) binaryPath(ctx context.Context, fn Function) (string, error) {
	tc, err := b.goToolchain(ctx)
	if err != nil {
		return "", err
	}
	sum, err := b.sourceHash(fn.Dir, tc)
	if err != nil {
		return "", err
	}
	return filepath.Join(b.cfg.CacheDir, fn.Name+"-"+sum, "f"), nil
}

// sourceHash is the package's sourceHash of dir, remembered until dir's
// Stamp changes. The Stamp is read first, so that an edit made while the
// sources are hashed changes the next Stamp and has them hashed again.
func (b *Builder) sourceHash(dir, toolchain string) (string, error) {
	stamp, err := Stamp(dir)
	if err != nil {
		return "", err
	}
	b.sumsMu.Lock()
	known, ok := b.sums[dir]
	b.sumsMu.Unlock()
	if ok && known.stamp == stamp && known.toolchain == toolchain {
		return known.sum, nil
	}
	sum, err := sourceHash(dir, toolchain)
	if err != nil {
		return "", err
	}
	b.sumsMu.Lock()
	if b.sums == nil {
		b.sums = map[string]stampedSum{}
	}
	b.sums[dir] = stampedSum{stamp: stamp, toolchain: toolchain, sum: sum}
	b.sumsMu.Unlock()
	return sum, nil
}

// compile scaffolds fn's main module in a temporary folder next to bin,
// builds it and moves the binary into place, so a binary in the cache is
// always complete.
func (b *Builder) compile(ctx context.Context, fn Function, bin string) error {
	if err := os.MkdirAll(filepath.Dir(bin), 0o755); err != nil {
		return err
	}
	dir, err := os.MkdirTemp(filepath.Dir(bin), "scaffold-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if err := writeScaffold(dir, fn); err != nil {
		return err
	}
	tmp := filepath.Join(dir, "f")
	// -mod=mod lets the go command complete the scaffold's go.mod and go.sum
	// (a newer dependency the function requires, a checksum neither go.sum
	// holds), as func's users do with GOFLAGS=-mod=mod; only this temporary
	// folder is written, never the function's. No -trimpath: with the same
	// flags and module versions as the funcd binary, the Go build cache
	// shares compiled packages (gRPC, protobuf, the Dapr protos) between
	// funcd and the functions.
	if err := b.goCmd(ctx, dir, "build", "-mod=mod", "-o", tmp, "."); err != nil {
		return err
	}
	return os.Rename(tmp, bin)
}

// toolchainEnv are the go env variables that change what a build makes.
var toolchainEnv = []string{"GOVERSION", "GOOS", "GOARCH", "GOFLAGS", "CGO_ENABLED", "GOEXPERIMENT", "GOAMD64", "GOARM64"}

// goToolchain describes the toolchain and the build settings for cache
// keys; it runs `go env` once.
func (b *Builder) goToolchain(ctx context.Context) (string, error) {
	b.toolchainMu.Lock()
	defer b.toolchainMu.Unlock()
	if b.toolchain != "" {
		return b.toolchain, nil
	}
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, b.cfg.Go, append([]string{"env"}, toolchainEnv...)...)
	cmd.Env, cmd.Stdout = b.buildEnv(), &out
	if err := cmd.Run(); err != nil {
		if errors.Is(err, exec.ErrNotFound) {
			return "", fmt.Errorf("functions are built with the Go toolchain, and %q is not on PATH: install Go 1.26 or later (%w)", b.cfg.Go, err)
		}
		return "", fmt.Errorf("go env: %w", err)
	}
	b.toolchain = strings.Join(strings.Split(strings.TrimSpace(out.String()), "\n"), "\x00")
	return b.toolchain, nil
}

// goCmd runs the go command in dir; its error includes the output.
func (b *Builder) goCmd(ctx context.Context, dir string, args ...string) error {
	cmd := exec.CommandContext(ctx, b.cfg.Go, args...)
	cmd.Dir, cmd.Env = dir, b.buildEnv()
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("go %s: %w\n%s", args[0], err, bytes.TrimSpace(out))
	}
	return nil
}

// buildEnv is Config.Environ with GOFLAGS cleared of -mod (the build sets
// -mod=mod itself), workspaces off (a go.work around the cache must not
// change what is built) and, unless the environment sets CGO_ENABLED,
// cgo off: a static binary, as func builds Go functions for their images,
// starts about a millisecond sooner than one the dynamic loader links, and
// every cold start waits for it.
func (b *Builder) buildEnv() []string {
	var flags []string
	cgo := false
	for _, kv := range b.cfg.Environ {
		if v, ok := strings.CutPrefix(kv, "GOFLAGS="); ok {
			flags = flags[:0]
			for _, f := range strings.Fields(v) {
				if !strings.HasPrefix(strings.TrimLeft(f, "-"), "mod=") {
					flags = append(flags, f)
				}
			}
		}
		cgo = cgo || strings.HasPrefix(kv, "CGO_ENABLED=")
	}
	env := append(b.cfg.Environ[:len(b.cfg.Environ):len(b.cfg.Environ)],
		"GOFLAGS="+strings.Join(flags, " "), "GOWORK=off")
	if !cgo {
		env = append(env, "CGO_ENABLED=0")
	}
	return env
}

// report hands ev to Config.OnBuild, one call at a time.
func (b *Builder) report(ev BuildEvent) {
	if b.cfg.OnBuild == nil {
		return
	}
	b.reportMu.Lock()
	defer b.reportMu.Unlock()
	b.cfg.OnBuild(ev)
}
