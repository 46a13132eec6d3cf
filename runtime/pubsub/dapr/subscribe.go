package dapr

import (
	"context"
	"errors"
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

// stream is one open streaming subscription.
type stream struct {
	rpc runtimev1pb.Dapr_SubscribeTopicEventsAlpha1Client
	mu  sync.Mutex // serializes Send: answers come from many handlers
}

// Subscribe opens a streaming subscription to sub.Topic and returns once
// daprd has accepted it. Messages go to h, each in its own goroutine (daprd
// bounds how many are in flight). sub.Consumer is not used: daprd's
// consumer group is its app id. When the stream breaks (daprd restarted),
// the adapter subscribes again until ctx ends or Close.
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
		defer cancel()
		defer stop()
		p.receive(ctx, sub, s, h)
	}()
	return nil
}

// open starts a stream and waits for daprd's initial response.
func (p *PubSub) open(ctx context.Context, sub pubsub.Subscription) (*stream, error) {
	rpc, err := runtimev1pb.NewDaprClient(p.client.GrpcClientConn()).SubscribeTopicEventsAlpha1(ctx)
	if err != nil {
		return nil, fmt.Errorf("subscribe to %s/%s: %w", p.name, sub.Topic, err)
	}
	err = rpc.Send(&runtimev1pb.SubscribeTopicEventsRequestAlpha1{
		SubscribeTopicEventsRequestType: &runtimev1pb.SubscribeTopicEventsRequestAlpha1_InitialRequest{
			InitialRequest: &runtimev1pb.SubscribeTopicEventsRequestInitialAlpha1{
				PubsubName: p.name, Topic: sub.Topic, Metadata: maps.Clone(sub.Metadata),
			},
		},
	})
	if err == nil {
		var resp *runtimev1pb.SubscribeTopicEventsResponseAlpha1
		if resp, err = rpc.Recv(); err == nil && resp.GetInitialResponse() == nil {
			err = fmt.Errorf("unexpected first answer %T", resp.GetSubscribeTopicEventsResponseType())
		}
	}
	if err != nil {
		return nil, fmt.Errorf("subscribe to %s/%s: %w", p.name, sub.Topic, errors.Join(err, rpc.CloseSend()))
	}
	return &stream{rpc: rpc}, nil
}

// receive delivers the stream's messages until ctx ends, re-subscribing
// whenever the stream breaks.
func (p *PubSub) receive(ctx context.Context, sub pubsub.Subscription, s *stream, h pubsub.Handler) {
	log := p.log.With("topic", sub.Topic)
	backoff := minResubscribe
	for {
		err := p.serve(ctx, sub, s, h)
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

// serve reads messages from s until it breaks, handling each concurrently.
func (p *PubSub) serve(ctx context.Context, sub pubsub.Subscription, s *stream, h pubsub.Handler) error {
	raw := rawPayload(sub.Metadata)
	for {
		resp, err := s.rpc.Recv()
		if err != nil {
			return err
		}
		ev := resp.GetEventMessage()
		if ev == nil {
			continue
		}
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			status := runtimev1pb.TopicEventResponse_SUCCESS
			if err := p.handle(ctx, ev, raw, h); err != nil {
				status = runtimev1pb.TopicEventResponse_RETRY
			}
			if err := s.answer(ev.GetId(), status); err != nil && ctx.Err() == nil {
				p.log.Warn("answer daprd", "topic", sub.Topic, "ce.id", ev.GetId(), "error", err)
			}
		}()
	}
}

// handle turns ev into a message for h; an event that cannot be turned into
// one is retried (daprd's own answer to a bad envelope).
func (p *PubSub) handle(ctx context.Context, ev *runtimev1pb.TopicEventRequest, raw bool, h pubsub.Handler) error {
	msg := &pubsub.Message{Topic: ev.GetTopic(), Data: ev.GetData(), ContentType: ev.GetDataContentType()}
	if !raw {
		data, err := envelope(ev)
		if err != nil {
			p.log.Error("rebuild envelope", "topic", ev.GetTopic(), "ce.id", ev.GetId(), "error", err)
			return err
		}
		msg.Data, msg.ContentType = data, ""
	}
	return h(ctx, msg)
}

// answer tells daprd what became of the event id.
func (s *stream) answer(id string, status runtimev1pb.TopicEventResponse_TopicEventResponseStatus) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rpc.Send(&runtimev1pb.SubscribeTopicEventsRequestAlpha1{
		SubscribeTopicEventsRequestType: &runtimev1pb.SubscribeTopicEventsRequestAlpha1_EventProcessed{
			EventProcessed: &runtimev1pb.SubscribeTopicEventsRequestProcessedAlpha1{
				Id: id, Status: &runtimev1pb.TopicEventResponse{Status: status},
			},
		},
	})
}
