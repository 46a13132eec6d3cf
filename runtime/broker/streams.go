package broker

import (
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/funcd/funcd/runtime/pubsub"
)

// Limits bound what a topic's stream keeps: past any of MaxAge, MaxBytes
// and MaxMsgs the oldest messages are removed, processed or not, and each
// message's id (Nats-Msg-Id, the CloudEvent's id) is kept for
// DuplicateWindow, during which a publish of the same id again is
// acknowledged and dropped. Zero fields take the defaults.
type Limits struct {
	MaxAge          time.Duration
	MaxBytes        int64
	MaxMsgs         int64
	DuplicateWindow time.Duration
}

// Retention defaults: enough for a consumer that is days or some 150,000
// orders behind, bounded for a laptop's disk. JetStream reserves each
// stream's MaxBytes from its store (at most 75% of the free disk), so
// DefaultMaxTopics streams of DefaultMaxBytes need 6.4 GB free.
const (
	DefaultMaxAge   = 7 * 24 * time.Hour
	DefaultMaxBytes = 64 << 20
	DefaultMaxMsgs  = 1_000_000
)

// DefaultDuplicateWindow is how long a stream keeps message ids unless
// told otherwise: long enough for a publisher that got no answer to send
// again (publish timeouts and retries take seconds), and shorter than
// NATS's own default of two minutes, because the server holds each id of
// the window in its heap, some 140 bytes of small objects (a heap profile
// a minute after 100,000 orders: 14 MB), that every collection traces: at
// 4,000 events/s two minutes hold 480,000 ids, 67 MB, half a minute a
// quarter of that, and after a burst they go half a minute after its last
// publish.
const DefaultDuplicateWindow = 30 * time.Second

// WithDefaults fills in the fields left zero.
func (l Limits) WithDefaults() Limits {
	if l.MaxAge == 0 {
		l.MaxAge = DefaultMaxAge
	}
	if l.MaxBytes == 0 {
		l.MaxBytes = DefaultMaxBytes
	}
	if l.MaxMsgs == 0 {
		l.MaxMsgs = DefaultMaxMsgs
	}
	if l.DuplicateWindow == 0 {
		l.DuplicateWindow = min(DefaultDuplicateWindow, l.MaxAge)
	}
	return l
}

// jsStorageResourcesExceeded is the server's JSStorageResourcesExceededErr:
// the store cannot reserve a new stream's MaxBytes.
const jsStorageResourcesExceeded nats.ErrorCode = 10047

// EnsureStream creates the stream that stores topic, with limits, unless
// it exists; an existing stream gets limits on first use in a run. A new
// stream past Config.MaxTopics is refused with pubsub.ErrTopicLimit. It is
// safe for concurrent use and cheap once the stream is known.
func (b *Broker) EnsureStream(topic string, limits Limits) error {
	limits = limits.WithDefaults()
	b.mu.Lock()
	defer b.mu.Unlock()
	if applied, ok := b.streams[topic]; ok && applied == limits {
		return nil
	}
	if err := validTopic(topic); err != nil {
		return err
	}
	name := StreamName(topic)
	info, err := b.js.StreamInfo(name)
	switch {
	case errors.Is(err, nats.ErrStreamNotFound):
		if b.count >= b.cfg.MaxTopics {
			return fmt.Errorf("broker: topic %q would be topic %d, %w: the embedded broker keeps at most %d (funcd up --max-topics; "+
				"topics of earlier runs count until their data folder is removed)", topic, b.count+1, pubsub.ErrTopicLimit, b.cfg.MaxTopics)
		}
		_, err = b.js.AddStream(streamConfig(name, topic, limits))
		var apiErr *nats.APIError
		switch {
		case err == nil:
			b.count++
		case errors.As(err, &apiErr) && (apiErr.ErrorCode == jsStorageResourcesExceeded || apiErr.ErrorCode == nats.JSErrCodeInsufficientResourcesErr):
			return fmt.Errorf("broker: topic %q: %w: the disk has no room for one more stream of %d bytes (streams reserve their streamMaxBytes; "+
				"lower it, free disk space or remove topics)", topic, pubsub.ErrTopicLimit, limits.MaxBytes)
		}
	case err == nil && !hasLimits(info.Config, limits):
		_, err = b.js.UpdateStream(withLimits(info.Config, limits))
	}
	if err != nil {
		return fmt.Errorf("broker: stream for topic %q: %w", topic, err)
	}
	b.streams[topic] = limits
	return nil
}

func streamConfig(name, topic string, l Limits) *nats.StreamConfig {
	return withLimits(nats.StreamConfig{
		Name: name, Subjects: []string{topic}, Storage: nats.FileStorage,
		Retention: nats.LimitsPolicy,
	}, l)
}

func withLimits(c nats.StreamConfig, l Limits) *nats.StreamConfig {
	c.MaxAge, c.MaxBytes, c.MaxMsgs, c.Discard = l.MaxAge, l.MaxBytes, l.MaxMsgs, nats.DiscardOld
	c.Duplicates = l.DuplicateWindow
	return &c
}

func hasLimits(c nats.StreamConfig, l Limits) bool {
	return limitsOf(c) == l && c.Discard == nats.DiscardOld
}

// limitsOf returns the limits a stream's configuration holds.
func limitsOf(c nats.StreamConfig) Limits {
	return Limits{MaxAge: c.MaxAge, MaxBytes: c.MaxBytes, MaxMsgs: c.MaxMsgs, DuplicateWindow: c.Duplicates}
}

// Topic is one stream of the broker, for funcd status.
type Topic struct {
	Topic  string // the subject it stores
	Stream string
	Msgs   uint64
	Bytes  uint64
	Limits Limits
}

// Topics lists the broker's streams with what they hold, and the bound on
// how many it keeps.
func (b *Broker) Topics() (topics []Topic, max int) {
	for info := range b.js.StreamsInfo() {
		t := Topic{Stream: info.Config.Name, Msgs: info.State.Msgs, Bytes: info.State.Bytes, Limits: limitsOf(info.Config)}
		if len(info.Config.Subjects) > 0 {
			t.Topic = info.Config.Subjects[0]
		}
		topics = append(topics, t)
	}
	return topics, b.cfg.MaxTopics
}
