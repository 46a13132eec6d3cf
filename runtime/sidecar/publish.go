package sidecar

import (
	"context"
	"errors"

	contribmd "github.com/dapr/components-contrib/metadata"
	apierrors "github.com/dapr/dapr/pkg/api/errors"

	"github.com/funcd/funcd/runtime/pubsub"
)

// resolve finds the component a publish goes to and validates the names, in
// daprd's order (validateAndGetPubsubAndTopic in pkg/api/{grpc,http}).
// notFoundMD is the metadata daprd attaches to the not-found error: the
// request's over HTTP, none over gRPC.
func (s *Sidecar) resolve(name, topic string, md, notFoundMD map[string]string) (pubsub.Publisher, error) {
	if name == "" {
		return nil, apierrors.PubSub(name).WithMetadata(md).NameEmpty()
	}
	p, ok := s.comps.PubSub(name)
	if !ok || p == nil {
		return nil, apierrors.PubSub(name).WithMetadata(notFoundMD).NotFound()
	}
	if topic == "" {
		return nil, apierrors.PubSub(name).WithMetadata(md).TopicEmpty()
	}
	return p, nil
}

// rawPayload reads metadata rawPayload like daprd.
func rawPayload(name string, md map[string]string) (bool, error) {
	raw, err := contribmd.IsRawPayload(md)
	if err != nil {
		return false, apierrors.PubSub(name).WithMetadata(md).DeserializeError(err)
	}
	return raw, nil
}

// publish encodes m and hands it to p.
func (s *Sidecar) publish(ctx context.Context, p pubsub.Publisher, m *message, raw bool) (err error) {
	ctx, span := s.startPublish(ctx, m)
	defer func() { endPublish(span, err) }()
	data, id, err := s.encode(m, raw, pubsub.Features(p))
	if err != nil {
		return err
	}
	msg := &pubsub.Message{Topic: m.topic, Data: data, Metadata: m.metadata, ID: id}
	if err := p.Publish(ctx, msg); err != nil {
		return s.publishError(m.pubsub, m.topic, err)
	}
	return nil
}

// publishError maps a Publisher's error to daprd's API error.
func (s *Sidecar) publishError(name, topic string, err error) error {
	if apiErr, ok := refusal(name, topic, err); ok {
		return apiErr
	}
	switch {
	case errors.Is(err, ErrTopicForbidden):
		return apierrors.PubSub(name).PublishForbidden(topic, s.appID, err)
	case errors.Is(err, ErrPubSubNotFound):
		return apierrors.PubSub(name).TestNotFound(topic, err)
	default:
		return apierrors.PubSub(name).PublishMessage(topic, err)
	}
}
