package sidecar

import (
	runtimev1pb "github.com/dapr/dapr/pkg/proto/runtime/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Subscriber serves streaming subscriptions (the Dapr SDKs' Subscribe and
// SubscribeWithHandler): the stream's first message names the topic, and
// events go out on it until either side ends it.
type Subscriber interface {
	SubscribeStream(stream runtimev1pb.Dapr_SubscribeTopicEventsAlpha1Server) error
}

// WithSubscriber serves SubscribeTopicEventsAlpha1 with sub; without it
// the method answers Unimplemented.
func WithSubscriber(sub Subscriber) Option {
	return func(c *Config) error {
		c.Subscriber = sub
		return nil
	}
}

// SubscribeTopicEventsAlpha1 hands a streaming subscription to the
// Subscriber.
func (a *grpcAPI) SubscribeTopicEventsAlpha1(stream runtimev1pb.Dapr_SubscribeTopicEventsAlpha1Server) error {
	if a.s.cfg.Subscriber == nil {
		return status.Error(codes.Unimplemented, "streaming subscriptions are not served here")
	}
	return a.s.cfg.Subscriber.SubscribeStream(stream)
}
