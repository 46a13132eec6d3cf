package function

import (
	"errors"
	"fmt"
	"net"
	"strconv"

	"github.com/kelseyhightower/envconfig"
)

// Config is checkout's configuration, read once from the environment by
// Start.
//
// func-go also hands Start a cfg map, but that map is only ./cfg overlaid
// with os.Environ(); envconfig reads the same process environment directly,
// so every setting below can come from func.yaml run.envs, the Knative
// service or `dapr run`.
type Config struct {
	// PubsubName is the Dapr pub/sub component orders are published to.
	PubsubName string `envconfig:"PUBSUB_NAME" default:"orderpubsub"`
	// Topic is the topic orders are published to.
	Topic string `envconfig:"TOPIC" default:"orders"`
	// GRPCEndpoint is the sidecar's gRPC endpoint; it wins over GRPCPort.
	GRPCEndpoint string `envconfig:"DAPR_GRPC_ENDPOINT"`
	// GRPCPort is the sidecar's gRPC port on 127.0.0.1, as set by daprd.
	GRPCPort int `envconfig:"DAPR_GRPC_PORT" default:"50001"`
	// LogFormat is "text" (one readable line per record) or "json".
	LogFormat string `envconfig:"LOG_FORMAT" default:"text"`
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

// DaprAddress is the sidecar's gRPC address: GRPCEndpoint if set, else
// 127.0.0.1:GRPCPort.
func (c Config) DaprAddress() string {
	if c.GRPCEndpoint != "" {
		return c.GRPCEndpoint
	}
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(c.GRPCPort))
}

// Validate reports every invalid setting at once.
func (c Config) Validate() error {
	var errs []error
	if c.PubsubName == "" {
		errs = append(errs, errors.New("PUBSUB_NAME must not be empty"))
	}
	if c.Topic == "" {
		errs = append(errs, errors.New("TOPIC must not be empty"))
	}
	if c.GRPCEndpoint == "" && (c.GRPCPort < 1 || c.GRPCPort > 65535) {
		errs = append(errs, fmt.Errorf("DAPR_GRPC_PORT must be 1-65535, got %d", c.GRPCPort))
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		errs = append(errs, fmt.Errorf("LOG_FORMAT must be text or json, got %q", c.LogFormat))
	}
	return errors.Join(errs...)
}
