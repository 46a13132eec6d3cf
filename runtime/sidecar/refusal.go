package sidecar

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/dapr/components-contrib/metadata"
	"github.com/dapr/dapr/pkg/messages/errorcodes"
	kiterrors "github.com/dapr/kit/errors"
	"google.golang.org/grpc/codes"

	"github.com/funcd/funcd/runtime/pubsub"
)

// Errors a Publisher may wrap to get funcd's answer for a publish no retry
// can fix. daprd v1.16.0 answers all of these 500 ERR_PUBSUB_PUBLISH_MESSAGE
// (gRPC Internal), which callers and Dapr's own retries take for transient;
// funcd answers with the client error that says what to change.
var (
	// ErrMessageTooLarge: HTTP 413, gRPC ResourceExhausted.
	ErrMessageTooLarge = pubsub.ErrTooLarge
	// ErrInvalidTopic: HTTP 400, gRPC InvalidArgument.
	ErrInvalidTopic = pubsub.ErrInvalidTopic
	// ErrTopicLimit: HTTP 403, gRPC FailedPrecondition.
	ErrTopicLimit = pubsub.ErrTopicLimit
)

// refusal maps a Publisher's error that no retry can fix to funcd's answer;
// ok is false for any other error.
func refusal(name, topic string, err error) (apiErr error, ok bool) {
	var maxBytes *http.MaxBytesError // a server in front limits the body too
	switch {
	case errors.Is(err, ErrMessageTooLarge), errors.Is(err, errStreamTooLarge), errors.As(err, &maxBytes):
		return publishRefused(name, topic, err, codes.ResourceExhausted, http.StatusRequestEntityTooLarge,
			"message too large"), true
	case errors.Is(err, ErrInvalidTopic):
		return publishRefused(name, topic, err, codes.InvalidArgument, http.StatusBadRequest, "invalid topic"), true
	case errors.Is(err, ErrTopicLimit):
		return publishRefused(name, topic, err, codes.FailedPrecondition, http.StatusForbidden, "topic limit reached"), true
	}
	return nil, false
}

// publishRefused is daprd's ERR_PUBSUB_PUBLISH_MESSAGE with a client
// error's codes, its cause in the message.
func publishRefused(name, topic string, err error, grpcCode codes.Code, httpCode int, what string) error {
	tag := errorcodes.PubsubPublishMessage
	msg := fmt.Sprintf("%s: error when publishing to topic %s in pubsub %s: %s", what, topic, name, err)
	return kiterrors.NewBuilder(grpcCode, httpCode, msg, tag.Code, string(tag.Category)).
		WithResourceInfo(string(metadata.PubSubType), name, "", msg).
		WithErrorInfo(tag.GrpcCode, map[string]string{"topic": topic, "error": err.Error()}).
		Build()
}

// cloudEventRefused is daprd's ERR_PUBSUB_CLOUD_EVENTS_SER with HTTP 400
// instead of 500 (gRPC keeps InvalidArgument), and its cause in the
// message: the caller sent a body that is not a CloudEvent.
func cloudEventRefused(name, appID string, err error) error {
	tag := errorcodes.PubSubCloudEventsSer
	msg := "cannot create cloudevent: " + err.Error()
	return kiterrors.NewBuilder(codes.InvalidArgument, http.StatusBadRequest, msg, tag.Code, string(tag.Category)).
		WithResourceInfo(string(metadata.PubSubType), name, "", msg).
		WithErrorInfo(tag.GrpcCode, map[string]string{"appID": appID, "error": err.Error()}).
		Build()
}
