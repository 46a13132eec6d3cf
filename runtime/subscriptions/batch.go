package subscriptions

import (
	"errors"
	"sync"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/funcd/funcd/runtime/delivery"
	"github.com/funcd/funcd/runtime/pubsub"
)

// item is one message waiting in a batch; done receives its settlement.
type item struct {
	msg    *pubsub.Message
	ev     *event.Event
	fields map[string]any // the envelope, for gRPC apps' bulk entries
	done   chan error     // buffered: the sender never waits
}

// batcher gathers messages for one function of a bulk subscription, like
// daprd's default bulk subscriber: a batch leaves when it holds max
// messages or its first message has waited wait. Each message's handler
// waits for its batch's outcome, so the broker is answered only after it.
// Batches fill only as fast as the component hands messages over in
// parallel (pubsub.jetstream: concurrency: parallel).
type batcher struct {
	max   int
	wait  time.Duration
	flush func([]*item)

	mu      sync.Mutex
	pending []*item
	gen     uint64 // counts batches, so a late timer cannot flush the next one
	timer   *time.Timer
}

func newBatcher(max int, wait time.Duration, flush func([]*item)) *batcher {
	return &batcher{max: max, wait: wait, flush: flush}
}

// add puts it in the current batch and returns its settlement.
func (b *batcher) add(it *item) error {
	b.mu.Lock()
	b.pending = append(b.pending, it)
	switch {
	case len(b.pending) >= b.max:
		full := b.take()
		b.mu.Unlock()
		b.flush(full)
	case len(b.pending) == 1:
		gen := b.gen
		b.timer = time.AfterFunc(b.wait, func() { b.expire(gen) })
		b.mu.Unlock()
	default:
		b.mu.Unlock()
	}
	return <-it.done
}

// take empties the batch; b.mu must be held.
func (b *batcher) take() []*item {
	full := b.pending
	b.pending = nil
	b.gen++
	if b.timer != nil {
		b.timer.Stop()
		b.timer = nil
	}
	return full
}

func (b *batcher) expire(gen uint64) {
	b.mu.Lock()
	if gen != b.gen || len(b.pending) == 0 {
		b.mu.Unlock()
		return
	}
	full := b.take()
	b.mu.Unlock()
	b.flush(full)
}

// deliverBatch sends one batch as application/cloudevents-batch+json and
// settles every message by the batch's outcome: 2xx acknowledges all, a
// permanent failure dead-letters all, a transient one retries the batch.
func (b *Binding) deliverBatch(s *subscription, fn string, items []*item) {
	msgs := make([]*pubsub.Message, len(items))
	evs := make(delivery.Batch, len(items))
	for i, it := range items {
		msgs[i], evs[i] = it.msg, it.ev
	}
	errs := make([]error, len(items))
	if release, err := s.acquire(b.life); err != nil {
		fill(errs, err)
	} else {
		ctx, span := b.startBatch(b.life, s, items, fn)
		a := b.deliverer.DeliverPayload(ctx, fn, evs, s.policies[fn])
		errs = b.settle(ctx, s, fn, msgs, evs, a)
		endProcess(span, a, errors.Join(errs...))
		release()
	}
	for i, it := range items {
		it.done <- errs[i]
	}
}
