package broker

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/funcd/funcd/runtime/pubsub"
)

// Config configures the embedded broker.
type Config struct {
	// StoreDir holds JetStream's file store; messages survive restarts there.
	StoreDir string
	// Host and Port to listen on; Port -1 picks a free port.
	Host string
	Port int
	// MaxTopics bounds the streams the broker keeps, one per topic
	// (default DefaultMaxTopics); streams from earlier runs count.
	MaxTopics int
	// Sync is when stored messages reach the disk (default DefaultSync).
	Sync Sync
}

// Sync is the file store's fsync policy. Always: each write is on disk
// before the publish is acknowledged, so a machine crash (power, kernel)
// loses nothing acknowledged. Every: the store is flushed to disk at that
// interval, so a machine crash can lose what was acknowledged since the
// last flush. Either way a crash of funcd alone loses nothing: its writes
// are with the operating system.
type Sync struct {
	Always bool
	Every  time.Duration
}

// DefaultSync is funcd's fsync policy unless set: every second. Measured
// side by side (go test -bench Fsync ./runtime/platform/), it costs no
// throughput against NATS's own two minutes, while fsync on every write
// costs more than half of it; see the README's delivery section.
func DefaultSync() Sync { return Sync{Every: time.Second} }

// syncConfig reports the fsync policy the running server applies.
func (b *Broker) syncConfig() Sync {
	c := b.srv.JetStreamConfig()
	if c.SyncAlways {
		return Sync{Always: true}
	}
	return Sync{Every: c.SyncInterval}
}

// ParseSync reads "always" or an interval such as "1s".
func ParseSync(s string) (Sync, error) {
	if s == "always" {
		return Sync{Always: true}, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return Sync{}, fmt.Errorf("fsync %q: want always or an interval such as 1s", s)
	}
	return Sync{Every: d}, nil
}

func (s Sync) String() string {
	if s.Always {
		return "always"
	}
	return s.Every.String()
}

// DefaultMaxTopics is Config.MaxTopics unless set: each stream costs
// files, a file descriptor, goroutines and some 60-90 KB of memory.
const DefaultMaxTopics = 100

// Validate reports a configuration the broker cannot start with.
func (c Config) Validate() error {
	if c.StoreDir == "" {
		return errors.New("broker: StoreDir is required")
	}
	if c.MaxTopics < 0 {
		return fmt.Errorf("broker: MaxTopics %d: want 0 (the default, %d) or more", c.MaxTopics, DefaultMaxTopics)
	}
	return nil
}

// Broker is a running embedded NATS JetStream server. Its port takes only
// clients with the token made for this run (Token): funcd's components.
type Broker struct {
	cfg   Config
	token string
	srv   *server.Server
	conn  *nats.Conn
	js    nats.JetStreamContext

	mu      sync.Mutex
	streams map[string]Limits // topic -> the limits applied in this run
	count   int               // streams in the store
}

// Start starts the server and waits until it accepts connections.
func Start(cfg Config) (*Broker, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Host == "" {
		cfg.Host = "127.0.0.1"
	}
	if cfg.Port == 0 {
		cfg.Port = server.RANDOM_PORT
	}
	if cfg.MaxTopics == 0 {
		cfg.MaxTopics = DefaultMaxTopics
	}
	if cfg.Sync == (Sync{}) {
		cfg.Sync = DefaultSync()
	}
	token, err := newToken()
	if err != nil {
		return nil, fmt.Errorf("broker: %w", err)
	}
	srv, err := server.NewServer(&server.Options{
		ServerName: "funcd", Host: cfg.Host, Port: cfg.Port, Authorization: token,
		JetStream: true, StoreDir: cfg.StoreDir, SyncAlways: cfg.Sync.Always, SyncInterval: cfg.Sync.Every,
		NoSigs: true, NoLog: true, DisableJetStreamBanner: true,
	})
	if err != nil {
		return nil, fmt.Errorf("broker: %w", err)
	}
	srv.Start()
	if !srv.ReadyForConnections(10 * time.Second) {
		srv.Shutdown()
		return nil, errors.New("broker: NATS server did not become ready in 10s")
	}
	conn, err := nats.Connect(srv.ClientURL(), nats.InProcessServer(srv), nats.Token(token), nats.Name("funcd-broker-admin"))
	if err != nil {
		srv.Shutdown()
		return nil, fmt.Errorf("broker: connect: %w", err)
	}
	js, err := conn.JetStream()
	if err != nil {
		conn.Close()
		srv.Shutdown()
		return nil, fmt.Errorf("broker: jetstream: %w", err)
	}
	b := &Broker{cfg: cfg, token: token, srv: srv, conn: conn, js: js, streams: map[string]Limits{}}
	for range js.StreamNames() {
		b.count++
	}
	return b, nil
}

// newToken returns 32 random bytes in hex: the broker's credential for one
// run, never written anywhere.
func newToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}

// URL is the client URL for pubsub.jetstream's natsURL.
func (b *Broker) URL() string { return b.srv.ClientURL() }

// Token is the credential clients need (pubsub.jetstream's token): made
// for this run, so no process without it can publish, read or purge.
func (b *Broker) Token() string { return b.token }

// Connect returns a client connection, in-process, with the token.
func (b *Broker) Connect(opts ...nats.Option) (*nats.Conn, error) {
	return nats.Connect(b.URL(), append([]nats.Option{nats.InProcessServer(b.srv), nats.Token(b.token)}, opts...)...)
}

// Close stops the server after in-flight client work is flushed.
func (b *Broker) Close() error {
	b.conn.Close()
	b.srv.Shutdown()
	b.srv.WaitForShutdown()
	return nil
}

// StreamName maps a topic to a valid JetStream stream name. Topics that are
// already valid names keep them, so streams are easy to find with nats CLI.
func StreamName(topic string) string {
	clean := strings.Map(func(r rune) rune {
		if r <= ' ' || r == '.' || r == '*' || r == '>' || r == '/' || r == '\\' || r > '~' {
			return '_'
		}
		return r
	}, topic)
	if clean == topic {
		return topic
	}
	sum := sha256.Sum256([]byte(topic))
	return clean + "_" + hex.EncodeToString(sum[:4])
}

// MaxTopicBytes bounds a topic name: its stream's name must fit a file
// name (255 bytes) with the suffix StreamName may add.
const MaxTopicBytes = 200

// validTopic refuses names that are not one NATS subject without
// wildcards: what is published there could not be read back as sent.
func validTopic(topic string) error {
	bad := func(why string) error {
		return fmt.Errorf("%w %.64q: %s", pubsub.ErrInvalidTopic, topic, why)
	}
	switch {
	case topic == "":
		return bad("empty")
	case len(topic) > MaxTopicBytes:
		return bad(fmt.Sprintf("%d bytes, at most %d allowed", len(topic), MaxTopicBytes))
	case !utf8.ValidString(topic):
		return bad("not UTF-8")
	case strings.ContainsFunc(topic, func(r rune) bool { return r <= ' ' || r == 0x7f || r == '*' || r == '>' }):
		return bad("wildcards (*, >), spaces and control characters are not allowed")
	case strings.HasPrefix(topic, ".") || strings.HasSuffix(topic, ".") || strings.Contains(topic, ".."):
		return bad("empty segment between dots")
	}
	return nil
}
