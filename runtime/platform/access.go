package platform

import (
	"context"
	"fmt"
	"log/slog"
	"slices"

	contrib "github.com/dapr/components-contrib/pubsub"

	"github.com/funcd/funcd/runtime/access"
	"github.com/funcd/funcd/runtime/pubsub"
	"github.com/funcd/funcd/runtime/resources"
	"github.com/funcd/funcd/runtime/sidecar"
)

// scoped is one function's view of the pub/sub components, as its own
// daprd would have it: a Component whose scopes leave the function out
// does not exist for it, and topics its access rules refuse get daprd's
// 403 ERR_PUBSUB_FORBIDDEN (gRPC PermissionDenied).
type scoped struct {
	comps  sidecar.Components
	app    string
	policy *access.Policy
	log    *slog.Logger
}

var (
	_ sidecar.Components = scoped{}
	_ sidecar.Lister     = scoped{}
)

func (s scoped) PubSub(name string) (pubsub.Publisher, bool) {
	if !s.policy.Loads(s.app, name) {
		return nil, false
	}
	pub, ok := s.comps.PubSub(name)
	if !ok {
		return nil, false
	}
	return scopedPublisher{pub: pub, s: s, name: name}, true
}

func (s scoped) ListPubSubs() []sidecar.ComponentInfo {
	l, ok := s.comps.(sidecar.Lister)
	if !ok {
		return nil
	}
	var out []sidecar.ComponentInfo
	for _, c := range l.ListPubSubs() {
		if s.policy.Loads(s.app, c.Name) {
			out = append(out, c)
		}
	}
	return out
}

// scopedPublisher checks the access rules, then passes the publish on with
// the component's optional capabilities.
type scopedPublisher struct {
	pub  pubsub.Publisher
	s    scoped
	name string
}

var (
	_ pubsub.FeatureReporter = scopedPublisher{}
	_ pubsub.BulkPublisher   = scopedPublisher{}
)

func (p scopedPublisher) Publish(ctx context.Context, msg *pubsub.Message) error {
	if err := p.allowed(msg.Topic); err != nil {
		return err
	}
	return p.pub.Publish(ctx, msg)
}

// BulkPublish checks the topic once, then hands the whole request to the
// component's BulkPublish, or publishes entry by entry without one.
func (p scopedPublisher) BulkPublish(ctx context.Context, req *contrib.BulkPublishRequest) (contrib.BulkPublishResponse, error) {
	if err := p.allowed(req.Topic); err != nil {
		return contrib.BulkPublishResponse{}, err
	}
	return pubsub.BulkPublish(ctx, p.pub, req)
}

// Features are the component's.
func (p scopedPublisher) Features() []contrib.Feature { return pubsub.Features(p.pub) }

func (p scopedPublisher) allowed(topic string) error {
	if err := p.s.policy.Publish(p.s.app, p.name, topic); err != nil {
		p.s.log.Warn("publish refused", "function", p.s.app, "error", err)
		return fmt.Errorf("%w: %w", sidecar.ErrTopicForbidden, err)
	}
	return nil
}

// activeSubscriptions returns the subscriptions the platform runs. daprd
// leaves out, with a warning, a subscription its app may not have; here
// the function a subscription routes to is the app, so a subscription is
// left out when its scopes do not list every function it routes to, or
// when its component's subscriptionScopes, allowedTopics or
// protectedTopics refuse its topic to one of them.
func activeSubscriptions(subs []resources.Subscription, policy *access.Policy, log *slog.Logger) []resources.Subscription {
	var out []resources.Subscription
	for _, sub := range subs {
		if err := subscriptionAllowed(sub, policy); err != nil {
			log.Warn("subscription not started", "subscription", sub.Name, "file", sub.File, "reason", err)
			continue
		}
		out = append(out, sub)
	}
	return out
}

func subscriptionAllowed(sub resources.Subscription, policy *access.Policy) error {
	for _, path := range sub.Paths() {
		fn := resources.Function(path)
		if len(sub.Scopes) > 0 && !slices.Contains(sub.Scopes, fn) {
			return fmt.Errorf("it routes to %s, which its scopes %v leave out", fn, sub.Scopes)
		}
		if err := policy.Subscribe(fn, sub.PubsubName, sub.Topic); err != nil {
			return err
		}
	}
	return nil
}
