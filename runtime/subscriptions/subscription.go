package subscriptions

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/funcd/funcd/runtime/delivery"
	"github.com/funcd/funcd/runtime/pubsub"
	"github.com/funcd/funcd/runtime/resources"
)

// Subscription metadata (spec.metadata) the binding reads. daprd passes
// metadata to the component, and components ignore keys they do not know,
// so the same Subscription file works under daprd.
const (
	// MetaReplyTopic names the topic, on the subscription's own component,
	// that CloudEvents in functions' 2xx answers are published to.
	MetaReplyTopic = "replyTopic"
	// MetaMaxConcurrency bounds in-flight deliveries (default 16).
	MetaMaxConcurrency = "maxConcurrency"
	// MetaOrdered "true" delivers one message at a time, in the order the
	// component hands them over.
	MetaOrdered = "ordered"
)

// DefaultMaxConcurrency bounds a subscription's in-flight deliveries.
const DefaultMaxConcurrency = 16

// Dapr's bulk subscribe defaults (pkg/runtime/pubsub/default_bulksub.go).
const (
	defaultBulkMessages = 100
	defaultBulkAwait    = time.Second
)

// subscription is one Subscription resource made ready to deliver.
type subscription struct {
	res        resources.Subscription
	ps         pubsub.PubSub
	router     router
	raw        bool
	replyTopic string
	ordered    bool
	// slots bounds in-flight deliveries (single events or batches). Blocked
	// senders on a channel are served first come, first served, which keeps
	// ordered mode in the component's order.
	slots    chan struct{}
	policies map[string]delivery.Policy // by function
	batchers map[string]*batcher        // by function, for bulk opt-ins
	counters counters
}

func (b *Binding) newSubscription(res resources.Subscription) (*subscription, error) {
	ps, ok := b.cfg.PubSubs.Get(res.PubsubName)
	if !ok {
		return nil, fmt.Errorf("pub/sub component %q is not loaded", res.PubsubName)
	}
	s, err := b.resolve(res)
	if err != nil {
		return nil, err
	}
	s.ps = ps
	return s, b.bulk(s)
}

// resolve reads a subscription's routes, delivery settings and per-function
// policies, and checks that every delivery fits inside the component's
// redelivery timeout. It opens nothing.
func (b *Binding) resolve(res resources.Subscription) (*subscription, error) {
	r, err := newRouter(res, b.routeTarget(), b.cfg.App != nil && b.cfg.App.GRPC != nil)
	if err != nil {
		return nil, err
	}
	s := &subscription{res: res, router: r, raw: rawPayload(res.Metadata),
		replyTopic: res.Metadata[MetaReplyTopic], policies: map[string]delivery.Policy{}, batchers: map[string]*batcher{}}
	if s.replyTopic != "" && s.replyTopic == res.Topic {
		return nil, fmt.Errorf("spec.metadata.%s %q is the subscribed topic: replies would be delivered again", MetaReplyTopic, s.replyTopic)
	}
	limit, err := s.concurrency()
	if err != nil {
		return nil, err
	}
	s.slots = make(chan struct{}, limit)
	for _, fn := range r.functions() {
		if s.policies[fn], err = b.policies.Inbound(res.PubsubName, delivery.PubSubKind, b.policyTarget(fn)); err != nil {
			return nil, err
		}
	}
	return s, b.fits(s)
}

// fits refuses a subscription whose deliveries to some function can hold a
// message longer than its component waits before handing the message out
// again: the broker would deliver it a second time while the first
// delivery is still being retried.
func (b *Binding) fits(s *subscription) error {
	i := slices.IndexFunc(b.cfg.Components, func(c resources.Component) bool { return c.Name == s.res.PubsubName })
	if i < 0 {
		return nil
	}
	c := b.cfg.Components[i]
	r, known, err := c.Redelivery()
	if err != nil {
		return fmt.Errorf("component %s (%s): %w", c.Name, c.File, err)
	}
	if !known || r.After == 0 {
		return nil
	}
	if b.cfg.KeepsAlive != nil && b.cfg.KeepsAlive(c) {
		return nil // a delivery holds its message for as long as it runs
	}
	for _, fn := range s.router.functions() {
		pol, wait := s.policies[fn], b.bulkWait(s.res, fn)
		if !pol.TimeoutGiven {
			if fit, ok := pol.Fitted(r.After, wait); ok && fit.Timeout != pol.Timeout {
				b.log.Info("per-attempt timeout lowered to fit the component's redelivery timeout", "subscription", s.res.Name,
					"function", fn, "timeout", fit.Timeout, "pubsub", c.Name, "redelivery", r.After)
				s.policies[fn], pol = fit, fit
			}
		}
		budget, how := pol.Budget(), pol.DescribeBudget()
		if wait > 0 {
			budget, how = delivery.SatAdd(budget, wait), how+fmt.Sprintf(" + %s collecting a batch", wait)
		}
		if budget > r.After {
			fix := "shorten the timeout or the retries"
			if r.Key != "" {
				fix += ", or raise " + r.Key
			}
			return fmt.Errorf("deliveries to %s can hold a message %s (%s; policy: %s), longer than component %s (%s, %s) waits before delivering it again, %s (%s): "+
				"it would be delivered twice while still being retried; %s",
				fn, budget.Round(time.Millisecond), how, pol.Source, c.Name, c.Type, c.File, r.After, r.Setting, fix)
		}
	}
	return nil
}

// routeTarget is what a route path names for this binding's deliveries.
func (b *Binding) routeTarget() func(string) string {
	switch {
	case b.cfg.App == nil:
		return resources.Function
	case b.cfg.App.GRPC != nil:
		return func(path string) string { return path } // OnTopicEvent's path, as the app listed it
	}
	return appPath
}

// policyTarget is the app whose Resiliency policies apply to deliveries to
// target: the function, or the Dapr app the binding delivers to.
func (b *Binding) policyTarget(target string) string {
	if b.cfg.App != nil {
		return b.cfg.App.ID
	}
	return target
}

// bulkWait is how long a message may wait for its batch to fill before
// its delivery starts: zero unless fn takes batches of this subscription.
func (b *Binding) bulkWait(res resources.Subscription, fn string) time.Duration {
	if !res.BulkSubscribe.Enabled || (b.cfg.App == nil && !b.cfg.Batch(fn)) {
		return 0
	}
	if ms := res.BulkSubscribe.MaxAwaitDurationMs; ms > 0 {
		return time.Duration(ms) * time.Millisecond
	}
	return defaultBulkAwait
}

// concurrency reads maxConcurrency and ordered.
func (s *subscription) concurrency() (int, error) {
	md := s.res.Metadata
	if v, ok := md[MetaOrdered]; ok {
		o, err := strconv.ParseBool(v)
		if err != nil {
			return 0, fmt.Errorf("spec.metadata.%s: %q is not true or false", MetaOrdered, v)
		}
		s.ordered = o
	}
	limit := DefaultMaxConcurrency
	if v, ok := md[MetaMaxConcurrency]; ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return 0, fmt.Errorf("spec.metadata.%s: %q is not a whole number >= 1", MetaMaxConcurrency, v)
		}
		if s.ordered && n != 1 {
			return 0, fmt.Errorf("spec.metadata: %s %q contradicts %s \"true\" (one in flight)", MetaMaxConcurrency, v, MetaOrdered)
		}
		limit = n
	}
	if s.ordered {
		if s.res.BulkSubscribe.Enabled {
			return 0, fmt.Errorf("spec.metadata.%s and spec.bulkSubscribe cannot be combined", MetaOrdered)
		}
		limit = 1
	}
	return limit, nil
}

// bulk sets up batching for the functions that accept batches, when the
// subscription asks for bulk delivery; others get single events.
func (b *Binding) bulk(s *subscription) error {
	bs := s.res.BulkSubscribe
	if !bs.Enabled {
		return nil
	}
	size, wait := defaultBulkMessages, defaultBulkAwait
	if bs.MaxMessagesCount > 0 {
		size = int(bs.MaxMessagesCount)
	}
	if bs.MaxAwaitDurationMs > 0 {
		wait = time.Duration(bs.MaxAwaitDurationMs) * time.Millisecond
	}
	for _, fn := range s.router.functions() {
		if b.cfg.App != nil { // a Dapr app that asks for bulk takes it on every route
			s.batchers[fn] = newBatcher(size, wait, func(items []*item) { b.deliverAppBatch(s, fn, items) })
			continue
		}
		if !b.cfg.Batch(fn) {
			b.log.Info("bulkSubscribe: function does not accept batches; delivering single events",
				"subscription", s.res.Name, "function", fn)
			continue
		}
		s.batchers[fn] = newBatcher(size, wait, func(items []*item) { b.deliverBatch(s, fn, items) })
	}
	return nil
}

// acquire takes an in-flight slot; release gives it back.
func (s *subscription) acquire(ctx context.Context) (release func(), err error) {
	select {
	case s.slots <- struct{}{}:
		return func() { <-s.slots }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}
