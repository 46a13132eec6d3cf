package function

import (
	"errors"
	"fmt"
	"time"

	"github.com/kelseyhightower/envconfig"
)

// Config is order-processor's configuration, read once from the environment
// by Start.
//
// func-go also hands Start a cfg map, but that map is only ./cfg overlaid
// with os.Environ(); envconfig reads the same process environment directly,
// so settings can come from func.yaml run.envs or the Knative service.
type Config struct {
	// LogFormat is "text" (one readable line per record, the seed's
	// "Subscriber received: ..." lines verbatim) or "json".
	LogFormat string `envconfig:"LOG_FORMAT" default:"text"`
	// ProcessingDelay is simulated work per order before it is logged and
	// acknowledged (default none). Demos and crash tests use it to keep
	// orders in flight.
	ProcessingDelay time.Duration `envconfig:"PROCESSING_DELAY" default:"0s"`
	// FailFirst answers 503 to the first FailFirst deliveries of each order
	// (default 0: none), so retries can be watched, e.g. with funcd trace.
	// Orders are counted by orderId in this process, at most
	// maxRemembered of them.
	FailFirst int `envconfig:"FAIL_FIRST" default:"0"`
}

// loadConfig reads Config from the environment and validates it.
func loadConfig() (Config, error) {
	var c Config
	if err := envconfig.Process("", &c); err != nil {
		return Config{}, fmt.Errorf("read config: %w", err)
	}
	if err := c.Validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}

// Validate reports every invalid setting at once.
func (c Config) Validate() error {
	var errs []error
	if c.LogFormat != "text" && c.LogFormat != "json" {
		errs = append(errs, fmt.Errorf("LOG_FORMAT must be text or json, got %q", c.LogFormat))
	}
	if c.ProcessingDelay < 0 {
		errs = append(errs, fmt.Errorf("PROCESSING_DELAY must not be negative, got %s", c.ProcessingDelay))
	}
	if c.FailFirst < 0 {
		errs = append(errs, fmt.Errorf("FAIL_FIRST must not be negative, got %d", c.FailFirst))
	}
	return errors.Join(errs...)
}
