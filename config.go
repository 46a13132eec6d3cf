package function

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"

	"github.com/kelseyhightower/envconfig"

	"github.com/funcd/funcd/runtime/tracing"
)

// Config is the binding function's configuration, read once by Start from
// the environment (func.yaml run.envs, the Knative Service, daprd's
// DAPR_GRPC_PORT and DAPR_API_TOKEN).
type Config struct {
	// GRPCEndpoint is the sidecar's gRPC endpoint; it wins over GRPCPort.
	GRPCEndpoint string `envconfig:"DAPR_GRPC_ENDPOINT"`
	// GRPCPort is the sidecar's gRPC port on 127.0.0.1, as daprd sets it.
	GRPCPort int `envconfig:"DAPR_GRPC_PORT" default:"50001"`
	// APIToken is sent as dapr-api-token when the sidecar requires one.
	APIToken string `envconfig:"DAPR_API_TOKEN"`
	// ResourcesPath is the folder of Dapr resource YAML whose Subscriptions
	// the binding opens (each names its pub/sub Component, which must be
	// in the folder too; daprd's own copy of the Component is what runs).
	ResourcesPath string `envconfig:"RESOURCES_PATH" default:"components"`
	// URLTemplate is where a function is reached: {function} and
	// {namespace} are replaced. FUNCTION_URL_<NAME> (upper case, "-" as
	// "_") overrides it for one function.
	URLTemplate string `envconfig:"FUNCTION_URL_TEMPLATE" default:"http://{function}.{namespace}.svc.cluster.local"`
	// Namespace fills {namespace}.
	Namespace string `envconfig:"NAMESPACE" default:"default"`
	// PubsubName and Topic are where Handle publishes events that carry no
	// pubsubname / topic extension; an empty Topic makes the extension
	// required.
	PubsubName string `envconfig:"PUBSUB_NAME" default:"orderpubsub"`
	Topic      string `envconfig:"TOPIC"`
	// LogFormat is "text" or "json"; LogLevel is debug, info, warn or error.
	LogFormat string     `envconfig:"LOG_FORMAT" default:"text"`
	LogLevel  slog.Level `envconfig:"LOG_LEVEL" default:"info"`

	// URLs are the FUNCTION_URL_<NAME> overrides, by function name.
	URLs map[string]string `ignored:"true"`
}

// urlPrefix starts the per-function URL overrides.
const urlPrefix = "FUNCTION_URL_"

// loadConfig reads Config from the environment and the overrides from cfg
// (func-go's map: ./cfg overlaid with the environment), then validates it.
func loadConfig(cfg map[string]string) (Config, error) {
	var c Config
	if err := envconfig.Process("", &c); err != nil {
		return Config{}, fmt.Errorf("read config: %w", err)
	}
	if cfg == nil {
		cfg = environ()
	}
	c.URLs = map[string]string{}
	for k, v := range cfg {
		name, ok := strings.CutPrefix(k, urlPrefix)
		if ok && name != "TEMPLATE" && v != "" {
			c.URLs[strings.ToLower(strings.ReplaceAll(name, "_", "-"))] = strings.TrimSuffix(v, "/")
		}
	}
	return c, c.Validate()
}

func environ() map[string]string {
	m := map[string]string{}
	for _, kv := range os.Environ() {
		if k, v, ok := strings.Cut(kv, "="); ok {
			m[k] = v
		}
	}
	return m
}

// DaprAddress is the sidecar's gRPC address: GRPCEndpoint if set, else
// 127.0.0.1:GRPCPort.
func (c Config) DaprAddress() string {
	if c.GRPCEndpoint != "" {
		return c.GRPCEndpoint
	}
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(c.GRPCPort))
}

// FunctionURL is the base URL events for function are posted to.
func (c Config) FunctionURL(function string) string {
	if u, ok := c.URLs[function]; ok {
		return u
	}
	r := strings.NewReplacer("{function}", function, "{namespace}", c.Namespace)
	return strings.TrimSuffix(r.Replace(c.URLTemplate), "/")
}

// Validate reports every invalid setting at once.
func (c Config) Validate() error {
	var errs []error
	if c.GRPCEndpoint == "" && (c.GRPCPort < 1 || c.GRPCPort > 65535) {
		errs = append(errs, fmt.Errorf("DAPR_GRPC_PORT must be 1-65535, got %d", c.GRPCPort))
	}
	if c.ResourcesPath == "" {
		errs = append(errs, errors.New("RESOURCES_PATH must not be empty"))
	}
	if !strings.Contains(c.URLTemplate, "{function}") {
		errs = append(errs, fmt.Errorf("FUNCTION_URL_TEMPLATE must contain {function}, got %q", c.URLTemplate))
	}
	if c.PubsubName == "" {
		errs = append(errs, errors.New("PUBSUB_NAME must not be empty"))
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		errs = append(errs, fmt.Errorf("LOG_FORMAT must be text or json, got %q", c.LogFormat))
	}
	return errors.Join(errs...)
}

// logger returns the logger c asks for, writing to stderr.
func (c Config) logger() *slog.Logger {
	opts := &slog.HandlerOptions{Level: c.LogLevel}
	if c.LogFormat == "json" {
		return slog.New(tracing.LogHandler(slog.NewJSONHandler(os.Stderr, opts)))
	}
	return slog.New(tracing.LogHandler(slog.NewTextHandler(os.Stderr, opts)))
}
