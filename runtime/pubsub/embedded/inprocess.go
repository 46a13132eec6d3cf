package embedded

import (
	"encoding/json"
	"errors"
	"sync"

	"github.com/nats-io/nats.go"
)

// InProcess is what a broker in this process offers besides its URL: client
// connections that skip the network (nats.InProcessServer). The embedded
// broker implements it.
type InProcess interface {
	Connect(opts ...nats.Option) (*nats.Conn, error)
}

// inProcessPublisher publishes to the embedded broker as components-contrib's
// pubsub.jetstream Publish does (v1.16.1: JetStream publish of the data to
// the topic's subject, the CloudEvent's id as Nats-Msg-Id for
// deduplication, metadata and content type not sent), over an in-process
// connection: no loopback socket, no second parse of the envelope into a map.
type inProcessPublisher struct {
	broker InProcess
	opts   []nats.Option
	jsOpts []nats.JSOpt

	mu     sync.Mutex
	nc     *nats.Conn
	js     nats.JetStreamContext
	closed bool
}

// publish stores data on topic, waiting for the broker's acknowledgement
// as the component does (nats.go's default JetStream timeout, 5s),
// deduplicated by its CloudEvent id: id when the publisher knows it, else
// read from data.
func (p *inProcessPublisher) publish(topic string, data []byte, id string) error {
	js, err := p.jetStream()
	if err != nil {
		return err
	}
	_, err = js.Publish(topic, data, msgID(id, data)...)
	return err
}

func (p *inProcessPublisher) jetStream() (nats.JetStreamContext, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil, errors.New("component is closed")
	}
	if p.js != nil {
		return p.js, nil
	}
	nc, err := p.broker.Connect(p.opts...)
	if err != nil {
		return nil, err
	}
	js, err := nc.JetStream(p.jsOpts...)
	if err != nil {
		nc.Close()
		return nil, err
	}
	p.nc, p.js = nc, js
	return js, nil
}

func (p *inProcessPublisher) close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	if p.nc == nil {
		return nil
	}
	err := p.nc.Flush()
	p.nc.Close()
	if errors.Is(err, nats.ErrConnectionClosed) {
		return nil
	}
	return err
}

// cloudEventID is the envelope's "id" when data is a JSON object with a
// string id, as components-contrib reads it (pubsub.FromCloudEvent), else "".
func cloudEventID(data []byte) string {
	var ce struct {
		ID any `json:"id"`
	}
	if err := json.Unmarshal(data, &ce); err != nil {
		return ""
	}
	id, _ := ce.ID.(string)
	return id
}
