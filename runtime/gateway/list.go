package gateway

import (
	"encoding/json"
	"net/http"
)

// Lister describes the functions for GET /.
type Lister interface {
	Functions() []FunctionInfo
}

// FunctionInfo is one row of GET /.
type FunctionInfo struct {
	Name         string `json:"name"`
	State        string `json:"state"` // zero, starting, running or failed
	Instances    int    `json:"instances"`
	InFlight     int    `json:"inFlight"`
	ColdStarts   int    `json:"coldStarts"`
	ColdStartP50 string `json:"coldStartP50"`
	ColdStartP99 string `json:"coldStartP99"`
	Requests     int64  `json:"requests"`
	Deliveries   int64  `json:"deliveries"`
	Failures     int64  `json:"failures"`
	// Error says why a failed function failed: its build's or its last
	// start's error.
	Error string `json:"error,omitempty"`
}

// SubscriptionLister is an optional capability of a Lister: GET / then
// lists the subscriptions too.
type SubscriptionLister interface {
	Subscriptions() []SubscriptionInfo
}

// SubscriptionInfo is one subscription in GET /, with what it did with the
// messages it received.
type SubscriptionInfo struct {
	Name         string `json:"name"`
	PubSub       string `json:"pubsub"`
	Topic        string `json:"topic"`
	Delivered    int64  `json:"delivered"`
	DeadLettered int64  `json:"deadLettered"`
	Dropped      int64  `json:"dropped"`
	Returned     int64  `json:"returned"`
	Retries      int64  `json:"retries"`
}

// PortLister is an optional capability of a Lister: GET / then lists the
// ports funcd listens on and what protects each.
type PortLister interface {
	Ports() []PortInfo
}

// PortInfo is one listening port in GET /.
type PortInfo struct {
	What      string `json:"what"`      // e.g. "gateway", "publish API (gRPC) of checkout"
	Address   string `json:"address"`   // host:port
	Protected string `json:"protected"` // what a caller needs, or "nothing" and why
}

// TopicLister is an optional capability of a Lister: GET / then lists the
// embedded broker's topics.
type TopicLister interface {
	Topics() (topics []TopicInfo, max int)
}

// TopicInfo is one topic of the embedded broker in GET /: what its stream
// holds and keeps.
type TopicInfo struct {
	Topic    string `json:"topic"`
	Messages uint64 `json:"messages"`
	Bytes    uint64 `json:"bytes"`
	MaxAge   string `json:"maxAge"`
	MaxBytes int64  `json:"maxBytes"`
	MaxMsgs  int64  `json:"maxMessages"`
	// DuplicateWindow is how long the topic keeps each message's id to
	// drop a publish of the same id again.
	DuplicateWindow string `json:"duplicateWindow"`
}

func (g *gateway) list(w http.ResponseWriter, _ *http.Request) {
	var fns []FunctionInfo
	var subs []SubscriptionInfo
	out := map[string]any{}
	if g.cfg.Lister != nil {
		fns = g.cfg.Lister.Functions()
		if sl, ok := g.cfg.Lister.(SubscriptionLister); ok {
			subs = sl.Subscriptions()
		}
		if pl, ok := g.cfg.Lister.(PortLister); ok {
			out["ports"] = pl.Ports()
		}
		if tl, ok := g.cfg.Lister.(TopicLister); ok {
			if topics, max := tl.Topics(); max > 0 {
				out["topics"], out["maxTopics"] = topics, max
			}
		}
	}
	out["functions"], out["subscriptions"] = fns, subs
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(out)
}
