package sidecar

import (
	"errors"
	"log/slog"
	"time"

	"go.opentelemetry.io/otel/trace"
)

// Defaults, as daprd v1.16.0 has them where daprd has one.
const (
	// DefaultMaxBodyBytes is daprd's default --max-body-size (4Mi), applied to
	// HTTP request bodies and gRPC messages.
	DefaultMaxBodyBytes = 4 << 20
	// DefaultShutdownTimeout bounds the graceful stop in Serve.
	DefaultShutdownTimeout = 5 * time.Second
)

// Config is the Sidecar's configuration. Build it with DefaultConfig and
// Options; New validates it.
type Config struct {
	// APIToken, when set, is required in the dapr-api-token header (HTTP) or
	// metadata (gRPC) of every call except GET /v1.0/healthz[/outbound].
	APIToken string
	// Logger receives refused and failed calls at Debug, panics at Error.
	Logger *slog.Logger
	// MaxBodyBytes limits HTTP request bodies and gRPC messages.
	MaxBodyBytes int
	// ShutdownTimeout bounds Serve's graceful stop.
	ShutdownTimeout time.Duration
	// ReadTimeout bounds how long a client may take to send a whole HTTP
	// request; IdleTimeout how long a connection (HTTP or gRPC) may stay
	// open without a request.
	ReadTimeout, IdleTimeout time.Duration
	// TracerProvider records a producer span per publish; nil records
	// none (the caller's trace context still goes into the envelope).
	TracerProvider trace.TracerProvider
	// Subscriber, when set, serves streaming subscriptions.
	Subscriber Subscriber
}

// DefaultConfig returns the configuration New starts from.
func DefaultConfig() Config {
	return Config{
		Logger:          slog.New(slog.DiscardHandler),
		MaxBodyBytes:    DefaultMaxBodyBytes,
		ShutdownTimeout: DefaultShutdownTimeout,
		ReadTimeout:     readTimeout,
		IdleTimeout:     idleTimeout,
	}
}

// Validate reports whether c can be used.
func (c Config) Validate() error {
	var errs []error
	if c.Logger == nil {
		errs = append(errs, errors.New("nil logger"))
	}
	if c.MaxBodyBytes <= 0 {
		errs = append(errs, errors.New("max body bytes must be positive"))
	}
	if c.ShutdownTimeout <= 0 {
		errs = append(errs, errors.New("shutdown timeout must be positive"))
	}
	if c.ReadTimeout <= 0 || c.IdleTimeout <= 0 {
		errs = append(errs, errors.New("read and idle timeouts must be positive"))
	}
	return errors.Join(errs...)
}

// Option sets an optional knob of Config.
type Option func(*Config) error

// WithAPIToken requires token on every call (DAPR_API_TOKEN in daprd). An
// empty token disables the check.
func WithAPIToken(token string) Option {
	return func(c *Config) error {
		c.APIToken = token
		return nil
	}
}

// WithLogger sets the logger.
func WithLogger(l *slog.Logger) Option {
	return func(c *Config) error {
		if l == nil {
			return errors.New("nil logger")
		}
		c.Logger = l
		return nil
	}
}

// WithTracerProvider records a span per publish with tp.
func WithTracerProvider(tp trace.TracerProvider) Option {
	return func(c *Config) error {
		c.TracerProvider = tp
		return nil
	}
}

// WithMaxBodyBytes sets the request size limit (default 4 MiB).
func WithMaxBodyBytes(n int) Option {
	return func(c *Config) error {
		if n <= 0 {
			return errors.New("max body bytes must be positive")
		}
		c.MaxBodyBytes = n
		return nil
	}
}

// WithShutdownTimeout bounds the graceful stop in Serve (default 5s).
func WithShutdownTimeout(d time.Duration) Option {
	return func(c *Config) error {
		if d <= 0 {
			return errors.New("shutdown timeout must be positive")
		}
		c.ShutdownTimeout = d
		return nil
	}
}

// WithTimeouts bounds how long a client may take to send a whole HTTP
// request (default 30s) and how long a connection may stay open without a
// request (default 60s).
func WithTimeouts(read, idle time.Duration) Option {
	return func(c *Config) error {
		if read <= 0 || idle <= 0 {
			return errors.New("read and idle timeouts must be positive")
		}
		c.ReadTimeout, c.IdleTimeout = read, idle
		return nil
	}
}
