package subscriptions

import "sync/atomic"

// Counts is what a subscription did with the messages it received.
type Counts struct {
	Delivered    int64 // acknowledged after the function's 2xx (and its reply, if any, was published)
	DeadLettered int64 // stored on the dead-letter topic, then acknowledged
	Dropped      int64 // permanent failure or no matching route, no dead-letter topic: logged and acknowledged
	Returned     int64 // handed back to the broker, which delivers them again later
	Retries      int64 // attempts beyond the first, over all deliveries
}

// SubscriptionStatus is one subscription and its counts since Start.
type SubscriptionStatus struct {
	Name   string
	PubSub string
	Topic  string
	Counts
}

// counters are a subscription's Counts, updated from many deliveries at once.
type counters struct {
	delivered, deadLettered, dropped, returned, retries atomic.Int64
}

func (c *counters) counts() Counts {
	return Counts{
		Delivered: c.delivered.Load(), DeadLettered: c.deadLettered.Load(), Dropped: c.dropped.Load(),
		Returned: c.returned.Load(), Retries: c.retries.Load(),
	}
}

// Status reports every subscription, in the order of Config.Subscriptions.
func (b *Binding) Status() []SubscriptionStatus {
	out := make([]SubscriptionStatus, 0, len(b.subs))
	for _, s := range b.subs {
		out = append(out, SubscriptionStatus{Name: s.res.Name, PubSub: s.res.PubsubName, Topic: s.res.Topic, Counts: s.counters.counts()})
	}
	return out
}
