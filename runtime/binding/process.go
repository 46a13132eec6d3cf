package binding

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/funcd/funcd/runtime/pubsub"
)

// process settles one message: nil acknowledges it, an error hands it back
// to the broker for a later redelivery.
func (b *Binding) process(ctx context.Context, r route, msg *pubsub.Message) error {
	d, err := decode(msg, r.sub.PubsubName, r.raw)
	if err != nil {
		return b.deadLetter(ctx, r, msg, "", err)
	}
	log := b.log.With("subscription", r.sub.Name, "topic", r.sub.Topic, "function", r.function,
		"ce.id", d.event.ID(), "ce.type", d.event.Type())
	if d.expired {
		return b.deadLetter(ctx, r, msg, d.event.ID(), fmt.Errorf("event %s expired before delivery", d.event.ID()))
	}
	var last error
	for attempt := 0; attempt <= b.cfg.Retry.MaxRetries; attempt++ {
		if attempt > 0 {
			if err := sleep(ctx, b.cfg.Retry.Backoff(attempt)); err != nil {
				return fmt.Errorf("deliver %s to %s: %w", d.event.ID(), r.function, err)
			}
		}
		res, err := b.attempt(ctx, r.function, d)
		outcome := Classify(res.status, err)
		log.Debug("delivered", "attempt", attempt+1, "status", res.status, "outcome", outcome.String(), "error", err)
		switch outcome {
		case Ack:
			return nil
		case DeadLetter:
			return b.deadLetter(ctx, r, msg, d.event.ID(), describe(res, err))
		}
		last = describe(res, err)
		if ctx.Err() != nil {
			break
		}
	}
	log.Warn("retries spent", "retries", b.cfg.Retry.MaxRetries, "error", last)
	if r.sub.DeadLetterTopic != "" {
		return b.deadLetter(ctx, r, msg, d.event.ID(), last)
	}
	return fmt.Errorf("deliver %s to %s: %w", d.event.ID(), r.function, last)
}

func (b *Binding) attempt(ctx context.Context, function string, d decoded) (result, error) {
	url, release, err := b.cfg.Target.Acquire(ctx, function)
	if err != nil {
		return result{}, fmt.Errorf("function %s: %w", function, err)
	}
	res, err := send(ctx, b.cfg.Client, url+"/", &d.event, b.cfg.Timeout)
	release(err != nil || res.status < 200 || res.status > 299)
	return res, err
}

// deadLetter publishes the original message to the subscription's
// dead-letter topic, or drops it with an error log when there is none. The
// message is acknowledged only when the dead-letter copy is stored.
func (b *Binding) deadLetter(ctx context.Context, r route, msg *pubsub.Message, id string, cause error) error {
	log := b.log.With("subscription", r.sub.Name, "topic", r.sub.Topic, "function", r.function, "ce.id", id)
	if r.sub.DeadLetterTopic == "" {
		log.Error("dropped: permanent failure and no deadLetterTopic", "error", cause)
		return nil
	}
	dl := &pubsub.Message{Topic: r.sub.DeadLetterTopic, Data: msg.Data, Metadata: msg.Metadata, ContentType: msg.ContentType}
	if err := r.ps.Publish(ctx, dl); err != nil {
		return fmt.Errorf("dead-letter %s to %s: %w", id, r.sub.DeadLetterTopic, err)
	}
	log.Warn("dead-lettered", "dead_letter_topic", r.sub.DeadLetterTopic, "error", cause)
	return nil
}

func describe(res result, err error) error {
	if err != nil {
		return err
	}
	return fmt.Errorf("function answered %d %s: %.200s", res.status, http.StatusText(res.status), res.reply)
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func newTransport() *http.Transport {
	return &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        256,
		MaxIdleConnsPerHost: 64,
		IdleConnTimeout:     90 * time.Second,
	}
}
