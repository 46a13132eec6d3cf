package dapr

import (
	"context"
	"fmt"
	"maps"
	"sync"
	"time"

	runtimev1pb "github.com/dapr/dapr/pkg/proto/runtime/v1"

	"github.com/funcd/funcd/runtime/pubsub"
)

// Re-subscribing after a broken stream backs off between these bounds.
const (
	minResubscribe = 100 * time.Millisecond
	maxResubscribe = 5 * time.Second
)

// Subscribe opens a streaming subscription to sub.Topic and returns once
// daprd has accepted it. Messages go to h, each in its own goroutine (daprd
// bounds how many are in flight). sub.Consumer is not used: daprd's
// consumer group is its app id. When the stream breaks (daprd restarted),
// the adapter subscribes again until ctx ends or Close. When ctx ends, the
// handlers in flight still answer before the stream is closed; then
// sub.Stopped is called.
func (p *PubSub) Subscribe(ctx context.Context, sub pubsub.Subscription, h pubsub.Handler) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return pubsub.ErrClosed
	}
	ctx, cancel := context.WithCancel(ctx)
	stop := context.AfterFunc(p.life, cancel)
	s, err := p.open(ctx, sub)
	if err != nil {
		stop()
		cancel()
		return err
	}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		var handlers sync.WaitGroup // of every stream, broken ones too
		p.receive(ctx, sub, s, h, &handlers)
		stop()
		cancel()
		handlers.Wait()
		if sub.Stopped != nil {
			sub.Stopped()
		}
	}()
	return nil
}

// open starts a stream and waits for daprd's initial response. The stream
// outlives ctx (see stream); ctx bounds only the wait.
func (p *PubSub) open(ctx context.Context, sub pubsub.Subscription) (*stream, error) {
	sctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	stopWait := context.AfterFunc(ctx, cancel)
	defer stopWait()
	rpc, err := runtimev1pb.NewDaprClient(p.client.GrpcClientConn()).SubscribeTopicEventsAlpha1(sctx)
	if err == nil {
		err = rpc.Send(&runtimev1pb.SubscribeTopicEventsRequestAlpha1{
			SubscribeTopicEventsRequestType: &runtimev1pb.SubscribeTopicEventsRequestAlpha1_InitialRequest{
				InitialRequest: &runtimev1pb.SubscribeTopicEventsRequestInitialAlpha1{
					PubsubName: p.name, Topic: sub.Topic, Metadata: streamMetadata(sub.Metadata),
				},
			},
		})
	}
	if err == nil {
		var resp *runtimev1pb.SubscribeTopicEventsResponseAlpha1
		if resp, err = rpc.Recv(); err == nil && resp.GetInitialResponse() == nil {
			err = fmt.Errorf("unexpected first answer %T", resp.GetSubscribeTopicEventsResponseType())
		}
	}
	if err != nil {
		cancel()
		return nil, fmt.Errorf("subscribe to %s/%s: %w", p.name, sub.Topic, err)
	}
	return &stream{rpc: rpc, cancel: cancel}, nil
}

// receive delivers the stream's messages until ctx ends, re-subscribing
// whenever the stream breaks.
func (p *PubSub) receive(ctx context.Context, sub pubsub.Subscription, s *stream, h pubsub.Handler, handlers *sync.WaitGroup) {
	log := p.log.With("topic", sub.Topic)
	backoff := minResubscribe
	for {
		err := p.serve(ctx, sub, s, h, handlers)
		if ctx.Err() != nil {
			return
		}
		log.Warn("subscription stream broke; subscribing again", "error", err, "backoff", backoff)
		for s = nil; s == nil; {
			select {
			case <-ctx.Done():
				return
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, maxResubscribe)
			if s, err = p.open(ctx, sub); err != nil {
				log.Warn("subscribe again failed", "error", err, "backoff", backoff)
			}
		}
		log.Info("subscribed again")
		backoff = minResubscribe
	}
}

// streamMetadata is the subscription's metadata with rawPayload=true: daprd
// then streams each message's bytes exactly as its component stored them
// (wrapped in data_base64 and unwrapped again on the way), which is what
// pubsub.Message.Data means, rather than an event split into proto fields.
// Expiry (ttlInSeconds) is then the binding's decision, as with the
// embedded adapter.
func streamMetadata(md map[string]string) map[string]string {
	out := maps.Clone(md)
	if out == nil {
		out = map[string]string{}
	}
	out[rawPayloadKey] = "true"
	return out
}

// serve reads messages from s until it breaks, handling each concurrently
// (counted in handlers). Once ctx ends it drains s: new events are answered
// RETRY, in-flight ones answer, then the stream is closed.
func (p *PubSub) serve(ctx context.Context, sub pubsub.Subscription, s *stream, h pubsub.Handler, handlers *sync.WaitGroup) error {
	raw := rawPayload(sub.Metadata)
	done := make(chan struct{})
	var watcher sync.WaitGroup
	watcher.Add(1)
	go func() {
		defer watcher.Done()
		defer s.cancel()
		select {
		case <-done:
			return
		case <-ctx.Done():
		}
		s.drain()
		select {
		case <-done:
		case <-time.After(drainGrace):
		}
	}()
	defer watcher.Wait()
	defer close(done)
	for {
		resp, err := s.rpc.Recv()
		if err != nil {
			return err
		}
		ev := resp.GetEventMessage()
		if ev == nil {
			continue
		}
		if !s.begin() {
			_ = s.answer(ev.GetId(), runtimev1pb.TopicEventResponse_RETRY)
			continue
		}
		p.wg.Add(1)
		handlers.Add(1)
		go func() {
			defer p.wg.Done()
			defer handlers.Done()
			defer s.inflight.Done()
			status := runtimev1pb.TopicEventResponse_SUCCESS
			if err := p.handle(ctx, ev, raw, h); err != nil {
				status = runtimev1pb.TopicEventResponse_RETRY
			}
			if err := s.answer(ev.GetId(), status); err != nil {
				p.log.Warn("answer daprd", "topic", sub.Topic, "ce.id", ev.GetId(), "error", err)
			}
		}()
	}
}

// handle hands ev's stored bytes to h. Metadata rawPayload=true travels
// with the message, so a copy the binding dead-letters through Publish is
// stored verbatim, as daprd's own dead-lettering does.
func (p *PubSub) handle(ctx context.Context, ev *runtimev1pb.TopicEventRequest, raw bool, h pubsub.Handler) error {
	msg := &pubsub.Message{Topic: ev.GetTopic(), Data: ev.GetData(), Metadata: map[string]string{rawPayloadKey: "true"}}
	if raw {
		msg.ContentType = ev.GetDataContentType()
	}
	return h(ctx, msg)
}
