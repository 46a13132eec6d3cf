package subscriptions

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/dapr/components-contrib/contenttype"
	contrib "github.com/dapr/components-contrib/pubsub"
	runtimev1pb "github.com/dapr/dapr/pkg/proto/runtime/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/funcd/funcd/runtime/delivery"
)

// AppCallback is the part of a gRPC app's AppCallback service deliveries use.
type AppCallback interface {
	OnTopicEvent(ctx context.Context, in *runtimev1pb.TopicEventRequest, opts ...grpc.CallOption) (*runtimev1pb.TopicEventResponse, error)
}

// appGRPCEvent is one message as daprd's gRPC postman sends it to an app:
// OnTopicEvent with the envelope's fields (GRPCEnvelopeFromSubscriptionMessage).
type appGRPCEvent struct {
	client   AppCallback
	fields   map[string]any
	topic    string
	pubsub   string
	route    string
	metadata map[string]string
	token    string
}

func (a appGRPCEvent) ID() string   { s, _ := a.fields[contrib.IDField].(string); return s }
func (a appGRPCEvent) Path() string { return a.route }

func (a appGRPCEvent) Write(context.Context, *http.Request) error {
	return errors.New("a gRPC delivery has no HTTP request")
}

// deliver calls OnTopicEvent; the answer's status name is the result's body.
func (a appGRPCEvent) Deliver(ctx context.Context, timeout time.Duration) (delivery.Result, error) {
	req, err := a.request()
	if err != nil {
		return delivery.Result{}, err
	}
	md := metadata.MD{}
	for k, v := range a.metadata {
		if validHeader(k, v) {
			md.Set(k, v)
		}
	}
	if a.token != "" {
		md.Set("dapr-api-token", a.token)
	}
	if tp, ok := a.fields[contrib.TraceParentField].(string); ok {
		md.Set("traceparent", tp)
	}
	ctx, cancel := context.WithTimeout(metadata.NewOutgoingContext(ctx, md), timeout)
	defer cancel()
	resp, err := a.client.OnTopicEvent(ctx, req)
	if err != nil {
		return delivery.Result{}, fmt.Errorf("OnTopicEvent %s: %w", a.route, err)
	}
	return delivery.Result{Status: http.StatusOK, Body: []byte(resp.GetStatus().String())}, nil
}

// request builds daprd's TopicEventRequest from the envelope.
func (a appGRPCEvent) request() (*runtimev1pb.TopicEventRequest, error) {
	str := func(k string) string { s, _ := a.fields[k].(string); return s }
	req := &runtimev1pb.TopicEventRequest{
		Id: str(contrib.IDField), Source: str(contrib.SourceField), DataContentType: str(contrib.DataContentTypeField),
		Type: str(contrib.TypeField), SpecVersion: str(contrib.SpecVersionField),
		Topic: a.topic, PubsubName: a.pubsub, Path: a.route,
	}
	if data, ok := a.fields[contrib.DataBase64Field]; ok && data != nil {
		s, ok := data.(string)
		if !ok {
			return nil, delivery.Permanentf("data_base64 is not a string")
		}
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return nil, delivery.Permanentf("data_base64: %w", err)
		}
		req.Data = b
	} else if data, ok := a.fields[contrib.DataField]; ok && data != nil {
		ct := req.GetDataContentType()
		switch {
		case contenttype.IsStringContentType(ct):
			s, ok := data.(string)
			if !ok {
				return nil, delivery.Permanentf("data of a %s event is not a string", ct)
			}
			req.Data = []byte(s)
		case contenttype.IsJSONContentType(ct) || contenttype.IsCloudEventContentType(ct):
			req.Data, _ = json.Marshal(data)
		}
	}
	ext := map[string]any{}
	for k, v := range a.fields {
		switch k {
		case contrib.IDField, contrib.SourceField, contrib.DataContentTypeField, contrib.TypeField,
			contrib.SpecVersionField, contrib.DataField, contrib.DataBase64Field:
			continue
		}
		ext[k] = v
	}
	b, err := json.Marshal(ext)
	if err != nil {
		return nil, delivery.Permanentf("extensions: %w", err)
	}
	req.Extensions = &structpb.Struct{}
	if err := protojson.Unmarshal(b, req.Extensions); err != nil {
		return nil, delivery.Permanentf("extensions: %w", err)
	}
	return req, nil
}

// outcome reads OnTopicEvent's answer as daprd does: Unimplemented drops
// the message, any other error retries; SUCCESS acknowledges, RETRY (or an
// unknown status) retries, DROP dead-letters.
func (a appGRPCEvent) Outcome(res delivery.Result, err error) delivery.Outcome {
	if err != nil {
		if st, ok := status.FromError(errors.Unwrap(err)); ok && st.Code() == codes.Unimplemented {
			return delivery.Drop
		}
		return delivery.Classify(0, err)
	}
	switch strings.TrimSpace(string(res.Body)) {
	case runtimev1pb.TopicEventResponse_SUCCESS.String():
		return delivery.Ack
	case runtimev1pb.TopicEventResponse_DROP.String():
		return delivery.DeadLetter
	}
	return delivery.Retry
}
