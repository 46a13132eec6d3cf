package dapr

import (
	"sync"
	"time"

	runtimev1pb "github.com/dapr/dapr/pkg/proto/runtime/v1"
)

// drainGrace bounds how long a stream that is being closed waits for daprd
// to end it after the last answer was sent.
const drainGrace = 5 * time.Second

// stream is one open streaming subscription. Its gRPC context is its own:
// ending a subscription first lets in-flight handlers answer, then
// half-closes the stream, and only then cancels it, so an event whose
// handler succeeded is acknowledged rather than delivered again.
type stream struct {
	rpc    runtimev1pb.Dapr_SubscribeTopicEventsAlpha1Client
	cancel func() // cancels the gRPC stream

	send sync.Mutex // serializes Send: answers come from many handlers

	gate     sync.Mutex
	draining bool
	inflight sync.WaitGroup
}

// begin registers an in-flight event, or reports false once draining.
func (s *stream) begin() bool {
	s.gate.Lock()
	defer s.gate.Unlock()
	if s.draining {
		return false
	}
	s.inflight.Add(1)
	return true
}

// drain waits for the in-flight events, then half-closes the stream: daprd
// then ends it, and Recv returns.
func (s *stream) drain() {
	s.gate.Lock()
	s.draining = true
	s.gate.Unlock()
	s.inflight.Wait()
	s.send.Lock()
	defer s.send.Unlock()
	_ = s.rpc.CloseSend()
}

// answer tells daprd what became of the event id.
func (s *stream) answer(id string, status runtimev1pb.TopicEventResponse_TopicEventResponseStatus) error {
	s.send.Lock()
	defer s.send.Unlock()
	return s.rpc.Send(&runtimev1pb.SubscribeTopicEventsRequestAlpha1{
		SubscribeTopicEventsRequestType: &runtimev1pb.SubscribeTopicEventsRequestAlpha1_EventProcessed{
			EventProcessed: &runtimev1pb.SubscribeTopicEventsRequestProcessedAlpha1{
				Id: id, Status: &runtimev1pb.TopicEventResponse{Status: status},
			},
		},
	})
}
