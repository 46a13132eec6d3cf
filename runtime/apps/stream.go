package apps

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	runtimev1pb "github.com/dapr/dapr/pkg/proto/runtime/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/funcd/funcd/runtime/delivery"
	"github.com/funcd/funcd/runtime/resources"
	"github.com/funcd/funcd/runtime/subscriptions"
)

// streamer serves one app's streaming subscriptions: each stream is a
// subscription of its own, delivered by a binding whose gRPC app is the
// stream (streamCallback), with Dapr's app contract.
type streamer struct {
	a  *Apps
	ap *app
}

// SubscribeStream runs one streaming subscription until the app ends the
// stream or funcd stops.
func (s streamer) SubscribeStream(stream runtimev1pb.Dapr_SubscribeTopicEventsAlpha1Server) error {
	first, err := stream.Recv()
	if err != nil {
		return err
	}
	init := first.GetInitialRequest()
	if init == nil {
		return status.Error(codes.InvalidArgument, "the first message of a subscription stream must be an initial request")
	}
	sub := resources.Subscription{Name: s.ap.spec.ID, PubsubName: init.GetPubsubName(), Topic: init.GetTopic(),
		Metadata: init.GetMetadata(), DeadLetterTopic: init.GetDeadLetterTopic(), File: "streaming subscription of " + s.ap.spec.ID}
	if sub.PubsubName == "" || sub.Topic == "" {
		return status.Error(codes.InvalidArgument, "pubsub name and topic are required")
	}
	if _, ok := s.a.cfg.PubSubs.Get(sub.PubsubName); !ok {
		return status.Errorf(codes.NotFound, "pubsub %s not found", sub.PubsubName)
	}
	if err := s.a.cfg.SubscribeAllowed(s.ap.spec.ID, sub.PubsubName, sub.Topic); err != nil {
		return status.Error(codes.PermissionDenied, err.Error())
	}
	release, err := s.ap.claim(topicKey(sub), sub.File)
	if err != nil {
		return status.Error(codes.AlreadyExists, err.Error())
	}
	defer release()
	cb := &streamCallback{stream: stream, waiting: map[string]chan *runtimev1pb.TopicEventResponse{}, ended: make(chan struct{})}
	var set resources.Set
	if s.a.cfg.Resources != nil {
		set = *s.a.cfg.Resources
	}
	b, err := subscriptions.New(subscriptions.Config{
		Subscriptions: []resources.Subscription{sub}, PubSubs: s.a.cfg.PubSubs, Target: target(""),
		Retry:      delivery.RetryPolicy{Multiplier: 1},
		Resiliency: set.Resiliencies, Components: set.Components, KeepsAlive: s.a.cfg.KeepsAlive,
		App: &subscriptions.App{ID: s.ap.spec.ID, GRPC: cb}, Logger: s.a.log.With("app", s.ap.spec.ID),
	})
	if err != nil {
		return status.Error(codes.InvalidArgument, err.Error())
	}
	if err := cb.send(&runtimev1pb.SubscribeTopicEventsResponseAlpha1{SubscribeTopicEventsResponseType: &runtimev1pb.SubscribeTopicEventsResponseAlpha1_InitialResponse{
		InitialResponse: &runtimev1pb.SubscribeTopicEventsResponseInitialAlpha1{}}}); err != nil {
		return err
	}
	if err := b.Start(stream.Context()); err != nil {
		return errors.Join(err, b.Stop(context.Background()))
	}
	s.a.log.Info("app subscribed (streaming)", "app", s.ap.spec.ID, "topic", topicKey(sub))
	recvErr := cb.receive()
	close(cb.ended) // events in flight go back to the broker
	stopCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = b.Stop(stopCtx) // undelivered messages go back to the broker
	s.a.log.Info("streaming subscription ended", "app", s.ap.spec.ID, "topic", topicKey(sub), "reason", recvErr)
	return nil
}

// streamCallback is a subscription stream seen as a gRPC app: OnTopicEvent
// sends the event on the stream and waits for the app's answer with its id.
type streamCallback struct {
	stream  runtimev1pb.Dapr_SubscribeTopicEventsAlpha1Server
	ended   chan struct{} // closed once the app stops reading answers
	sendMu  sync.Mutex
	mu      sync.Mutex
	waiting map[string]chan *runtimev1pb.TopicEventResponse
}

func (c *streamCallback) send(m *runtimev1pb.SubscribeTopicEventsResponseAlpha1) error {
	c.sendMu.Lock()
	defer c.sendMu.Unlock()
	return c.stream.Send(m)
}

// OnTopicEvent implements subscriptions.AppCallback.
func (c *streamCallback) OnTopicEvent(ctx context.Context, in *runtimev1pb.TopicEventRequest, _ ...grpc.CallOption) (*runtimev1pb.TopicEventResponse, error) {
	ch := make(chan *runtimev1pb.TopicEventResponse, 1)
	c.mu.Lock()
	if _, dup := c.waiting[in.GetId()]; dup {
		c.mu.Unlock()
		return nil, status.Errorf(codes.Aborted, "event %s is already in flight on this stream", in.GetId())
	}
	c.waiting[in.GetId()] = ch
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		delete(c.waiting, in.GetId())
		c.mu.Unlock()
	}()
	if err := c.send(&runtimev1pb.SubscribeTopicEventsResponseAlpha1{SubscribeTopicEventsResponseType: &runtimev1pb.SubscribeTopicEventsResponseAlpha1_EventMessage{EventMessage: in}}); err != nil {
		return nil, fmt.Errorf("send on the subscription stream: %w", err)
	}
	select {
	case resp := <-ch:
		return resp, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-c.ended:
		return nil, fmt.Errorf("the subscription stream ended: %w", delivery.ErrStopping)
	case <-c.stream.Context().Done():
		return nil, fmt.Errorf("the subscription stream ended: %w", delivery.ErrStopping)
	}
}

// receive reads the app's answers until the stream ends.
func (c *streamCallback) receive() error {
	for {
		m, err := c.stream.Recv()
		if err != nil {
			return err
		}
		p := m.GetEventProcessed()
		if p == nil {
			continue
		}
		c.mu.Lock()
		ch := c.waiting[p.GetId()]
		c.mu.Unlock()
		if ch == nil {
			continue // an answer for an event no longer waited for
		}
		resp := p.GetStatus()
		if resp == nil {
			resp = &runtimev1pb.TopicEventResponse{}
		}
		select {
		case ch <- resp:
		default:
		}
	}
}
