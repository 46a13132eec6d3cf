package sidecar

import (
	"errors"
	"fmt"
	"log/slog"

	"go.opentelemetry.io/otel/trace"

	"github.com/funcd/funcd/runtime/pubsub"
	"github.com/funcd/funcd/runtime/tracing"
)

// Components finds a pub/sub component by name, as a publisher of the
// pub/sub port. It may implement Lister.
//
// A message's Data is what daprd would give the component: the JSON
// CloudEvent envelope, or the caller's bytes when metadata rawPayload=true.
// A publisher returns an error wrapping ErrTopicForbidden or
// ErrPubSubNotFound to get daprd's answer for those cases; any other error
// is a publish failure. Its optional capabilities (pubsub.FeatureReporter,
// pubsub.BulkPublisher) are used as daprd uses the component's: with
// pubsub.FeatureMessageTTL the component enforces ttlInSeconds itself and
// the envelope gets no "expiration" field; without BulkPublish a bulk
// request is published entry by entry, concurrently.
type Components interface {
	PubSub(name string) (pubsub.Publisher, bool)
}

// Lister is an optional capability of Components, used by the metadata APIs.
type Lister interface {
	ListPubSubs() []ComponentInfo
}

// ComponentInfo describes one registered component in the metadata APIs.
type ComponentInfo struct {
	Name    string // component name, e.g. "orderpubsub"
	Type    string // component type, e.g. "pubsub.redis"
	Version string // e.g. "v1"
}

// Errors a Publisher may wrap to pick daprd's answer.
var (
	// ErrTopicForbidden: HTTP 403 ERR_PUBSUB_FORBIDDEN, gRPC PermissionDenied.
	ErrTopicForbidden = errors.New("topic not allowed for this app")
	// ErrPubSubNotFound: HTTP 400 ERR_PUBSUB_NOT_FOUND, gRPC NotFound (daprd's
	// answer when the component disappears between lookup and publish).
	ErrPubSubNotFound = errors.New("pub/sub component not found")
)

// Sidecar serves the Dapr publish API for one app id.
type Sidecar struct {
	appID  string
	comps  Components
	cfg    Config
	log    *slog.Logger
	tracer trace.Tracer
}

// New returns a Sidecar publishing as appID (the CloudEvent source) to the
// components comps finds.
func New(appID string, comps Components, opts ...Option) (*Sidecar, error) {
	if appID == "" {
		return nil, errors.New("sidecar: empty app id")
	}
	if comps == nil {
		return nil, errors.New("sidecar: nil components")
	}
	cfg := DefaultConfig()
	for _, opt := range opts {
		if err := opt(&cfg); err != nil {
			return nil, fmt.Errorf("sidecar: %w", err)
		}
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("sidecar: %w", err)
	}
	return &Sidecar{appID: appID, comps: comps, cfg: cfg, log: cfg.Logger, tracer: tracing.Tracer(cfg.TracerProvider)}, nil
}

// AppID returns the app id the Sidecar publishes as.
func (s *Sidecar) AppID() string { return s.appID }
