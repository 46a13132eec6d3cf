package platform

import (
	"cmp"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/funcd/funcd/runtime/broker"
	"github.com/funcd/funcd/runtime/funcbuild"
	"github.com/funcd/funcd/runtime/multiapp"
)

// Config configures the local platform.
type Config struct {
	// Dir is the project folder; FunctionsDir, ResourcesDir and DataDir
	// default to its functions/, components/ and .funcd/data.
	Dir          string
	FunctionsDir string
	ResourcesDir string
	DataDir      string
	// GatewayAddr is the gateway's listen address (default 127.0.0.1:8080;
	// port 0 picks a free one).
	GatewayAddr string
	// GRPCAddr, when set, is where the gateway's Dapr publish API is also
	// served over gRPC (PublishEvent, BulkPublishEventAlpha1), as daprd's
	// --dapr-grpc-port serves it; port 0 picks a free one.
	GRPCAddr string
	// CacheDir holds built functions (default: the user cache folder).
	CacheDir string
	// Environ is the environment functions inherit and envRef reads
	// (default os.Environ()).
	Environ []string
	// Idle, when set, overrides every function's scale-to-zero retention
	// (otherwise its func.yaml annotation, or 30s).
	Idle time.Duration
	// APIToken, when set, is required to invoke functions and publish
	// through the gateway, and by the functions' publish APIs
	// (DAPR_API_TOKEN); without it those require a token made per run.
	APIToken string
	// MaxTopics bounds the topics the embedded broker keeps (default
	// broker.DefaultMaxTopics).
	MaxTopics int
	// Fsync is when the embedded broker's writes reach the disk (default
	// broker.DefaultSync).
	Fsync broker.Sync
	// Output receives the functions' prefixed output (default os.Stdout).
	Output io.Writer
	Color  bool
	// Watch rebuilds a function when its sources change and replaces its
	// running instances with the new build.
	Watch bool
	// CPUProfileDir, when set, receives a CPU profile of every function
	// process (see runner.Config.CPUProfileDir).
	CPUProfileDir string
	// OnBuild receives build progress.
	OnBuild func(funcbuild.BuildEvent)
	// Apps, when set, are Dapr apps run next to the functions (a
	// Multi-App Run template). Their resource folders are loaded with
	// ResourcesDir, and the default functions/ and components/ folders
	// may then be missing.
	Apps   *multiapp.Template
	Logger *slog.Logger
}

func (c Config) withDefaults() (Config, error) {
	c.Dir = cmp.Or(c.Dir, ".")
	abs, err := filepath.Abs(c.Dir)
	if err != nil {
		return c, err
	}
	c.Dir = abs
	// Absolute, as function folders are named (funcbuild.Load) and watched.
	for _, d := range []struct {
		dir *string
		def string
	}{
		{&c.FunctionsDir, filepath.Join(c.Dir, "functions")},
		{&c.ResourcesDir, filepath.Join(c.Dir, "components")},
		{&c.DataDir, filepath.Join(c.Dir, ".funcd", "data")},
	} {
		if *d.dir, err = filepath.Abs(cmp.Or(*d.dir, d.def)); err != nil {
			return c, err
		}
	}
	if c.Apps != nil { // a folder of Dapr apps needs no functions/ or components/
		for _, d := range []*string{&c.FunctionsDir, &c.ResourcesDir} {
			if _, err := os.Stat(*d); errors.Is(err, os.ErrNotExist) {
				*d = ""
			}
		}
	}
	c.GatewayAddr = cmp.Or(c.GatewayAddr, "127.0.0.1:8080")
	if c.Environ == nil {
		c.Environ = os.Environ()
	}
	c.Output = cmp.Or[io.Writer](c.Output, os.Stdout)
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c, c.Validate()
}

// Validate reports a configuration the platform cannot start with.
func (c Config) Validate() error {
	var errs []error
	for name, dir := range map[string]string{"functions": c.FunctionsDir, "resources": c.ResourcesDir} {
		if dir == "" {
			continue
		}
		if st, err := os.Stat(dir); err != nil || !st.IsDir() {
			errs = append(errs, errors.New(name+" folder "+dir+" does not exist"))
		}
	}
	return errors.Join(errs...)
}

// lookup reads a variable from c.Environ; the last entry wins.
func (c Config) lookup(key string) (string, bool) {
	for i := len(c.Environ) - 1; i >= 0; i-- {
		if k, v, ok := strings.Cut(c.Environ[i], "="); ok && k == key {
			return v, true
		}
	}
	return "", false
}
