package subscriptions

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/funcd/funcd/runtime/delivery"
)

// bulkCall names one bulk delivery: its envelope id and, by item, the
// entry ids. Retries keep them, as daprd resends the same entries.
type bulkCall struct {
	id       string
	entryIDs []string
}

func newBulkCall(n int) bulkCall {
	c := bulkCall{id: uuid.NewString(), entryIDs: make([]string, n)}
	for i := range c.entryIDs {
		c.entryIDs[i] = uuid.NewString()
	}
	return c
}

// only is the call for the items at idx.
func (c bulkCall) only(idx []int) bulkCall {
	out := bulkCall{id: c.id, entryIDs: make([]string, len(idx))}
	for j, i := range idx {
		out.entryIDs[j] = c.entryIDs[i]
	}
	return out
}

// retryAppBatch delivers items in one bulk call, then retries only the
// entries still to be retried (RETRY, an unknown or missing status, a
// failed call) under the subscription's policy, as daprd's bulk
// resiliency does: with no Resiliency policy there is one attempt. It
// returns each entry's final outcome: Retry when the policy is spent,
// Requeue when unlimited retries ran out of time or the binding stops.
func (b *Binding) retryAppBatch(ctx context.Context, s *subscription, target string, items []*item) ([]delivery.Outcome, error) {
	pol := s.policies[target]
	call := newBulkCall(len(items))
	outcomes := make([]delivery.Outcome, len(items))
	pending := make([]int, len(items))
	for i := range pending {
		pending[i] = i
	}
	var cause error
	start := time.Now()
	for n := 1; ; n++ {
		got, err := b.attemptAppBatch(ctx, s, target, pick(items, pending), call.only(pending))
		for j, i := range pending {
			outcomes[i] = got[j]
		}
		cause = err
		if pending = retrying(pending, outcomes); len(pending) == 0 {
			return outcomes, cause
		}
		wait, ok := pol.Retry.Next(n, time.Since(start))
		if !ok {
			if pol.Retry.Unlimited() {
				mark(outcomes, pending, delivery.Requeue)
			}
			return outcomes, cause
		}
		if err := delivery.Sleep(ctx, wait); err != nil {
			mark(outcomes, pending, delivery.Requeue)
			return outcomes, fmt.Errorf("bulk retry interrupted: %w (last: %w)", err, cause)
		}
		s.counters.retries.Add(int64(len(pending)))
	}
}

// attemptAppBatch makes one bulk call through the policy's circuit
// breaker, which counts it failed when any entry is to be retried.
func (b *Binding) attemptAppBatch(ctx context.Context, s *subscription, target string, items []*item, call bulkCall) ([]delivery.Outcome, error) {
	done, err := s.policies[target].Breaker.Allow()
	if err != nil {
		outcomes := make([]delivery.Outcome, len(items))
		fillOutcome(outcomes, delivery.Retry)
		return outcomes, fmt.Errorf("bulk delivery refused: %w", err)
	}
	var outcomes []delivery.Outcome
	if b.cfg.App.GRPC != nil {
		outcomes, err = b.postGRPCAppBatch(ctx, s, target, items, call)
	} else {
		outcomes, err = b.postAppBatch(ctx, s, target, items, call)
	}
	failed := false
	for _, o := range outcomes {
		failed = failed || o == delivery.Retry
	}
	done(!failed)
	return outcomes, err
}

// retrying keeps the indexes in idx whose outcome is Retry.
func retrying(idx []int, outcomes []delivery.Outcome) []int {
	var out []int
	for _, i := range idx {
		if outcomes[i] == delivery.Retry {
			out = append(out, i)
		}
	}
	return out
}

func pick(items []*item, idx []int) []*item {
	out := make([]*item, len(idx))
	for j, i := range idx {
		out[j] = items[i]
	}
	return out
}

func mark(outcomes []delivery.Outcome, idx []int, o delivery.Outcome) {
	for _, i := range idx {
		outcomes[i] = o
	}
}
