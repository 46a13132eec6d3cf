package funcbuild

import (
	"cmp"
	"fmt"
	"os"
	"path/filepath"
)

// Config configures a Builder. The zero value is usable: New fills in the
// defaults documented on each field.
type Config struct {
	// CacheDir holds built binaries, one folder per function and content
	// hash. Default: os.UserCacheDir()/funcd/builds.
	CacheDir string
	// Go is the go command used to build. Default: "go".
	Go string
	// Environ is the environment builds inherit. Default: os.Environ().
	Environ []string
	// BuildJobs bounds how many functions build at once. Default: 2.
	BuildJobs int
	// OnBuild, if set, receives build progress. Calls are serialized.
	OnBuild func(BuildEvent)
}

// withDefaults returns c with every unset field set to its default.
func (c Config) withDefaults() (Config, error) {
	if c.CacheDir == "" {
		dir, err := os.UserCacheDir()
		if err != nil {
			return c, fmt.Errorf("build cache: %w", err)
		}
		c.CacheDir = filepath.Join(dir, "funcd", "builds")
	}
	if c.Environ == nil {
		c.Environ = os.Environ()
	}
	c.Go = cmp.Or(c.Go, "go")
	c.BuildJobs = cmp.Or(c.BuildJobs, 2)
	return c, c.Validate()
}

// Validate reports a configuration that cannot work.
func (c Config) Validate() error {
	if c.BuildJobs < 0 {
		return fmt.Errorf("BuildJobs: %d is negative", c.BuildJobs)
	}
	return nil
}
