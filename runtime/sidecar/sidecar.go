package sidecar

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/dapr/components-contrib/pubsub"
	"go.opentelemetry.io/otel/trace"

	"github.com/funcd/funcd/runtime/tracing"
)

// Publisher publishes an encoded message to a topic of one pub/sub component.
//
// req.Data is what daprd would give the component: the JSON CloudEvent
// envelope, or the caller's bytes when metadata rawPayload=true. Return an
// error wrapping ErrTopicForbidden or ErrPubSubNotFound to get daprd's answer
// for those cases; any other error is a publish failure.
//
// A Publisher may implement FeatureReporter and BulkPublisher.
type Publisher interface {
	Publish(ctx context.Context, req *pubsub.PublishRequest) error
}

// Components finds a pub/sub component by name. It may implement Lister.
type Components interface {
	PubSub(name string) (Publisher, bool)
}

// FeatureReporter is an optional capability of a Publisher: the features of
// the component behind it. When they include pubsub.FeatureMessageTTL the
// component enforces ttlInSeconds itself and the envelope gets no
// "expiration" field, as with daprd.
type FeatureReporter interface {
	Features() []pubsub.Feature
}

// BulkPublisher is an optional capability of a Publisher. Without it a bulk
// request is published entry by entry, concurrently, as daprd does for
// components without the BULK_PUBSUB feature.
type BulkPublisher interface {
	BulkPublish(ctx context.Context, req *pubsub.BulkPublishRequest) (pubsub.BulkPublishResponse, error)
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
