package embedded

import (
	"fmt"
	"strconv"
	"time"

	"github.com/funcd/funcd/runtime/broker"
)

// Component metadata funcd reads for pubsub.jetstream on the embedded
// broker: how much each topic's stream keeps and how long it keeps message
// ids to drop duplicates (see broker.Limits). The component itself ignores
// them, and they mean nothing with a natsURL.
const (
	MetaStreamMaxAge    = "streamMaxAge"    // a duration, e.g. 168h
	MetaStreamMaxBytes  = "streamMaxBytes"  // bytes
	MetaStreamMaxMsgs   = "streamMaxMsgs"   // messages
	MetaDuplicateWindow = "duplicateWindow" // a duration, e.g. 2m
)

// streamLimits reads the retention limits from a Component's metadata.
func streamLimits(meta map[string]string) (broker.Limits, error) {
	var l broker.Limits
	if v := meta[MetaStreamMaxAge]; v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < time.Second {
			return l, fmt.Errorf("metadata %s: %q is not a duration of a second or more, such as 168h", MetaStreamMaxAge, v)
		}
		l.MaxAge = d
	}
	if v := meta[MetaDuplicateWindow]; v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < time.Second {
			return l, fmt.Errorf("metadata %s: %q is not a duration of a second or more, such as 2m", MetaDuplicateWindow, v)
		}
		l.DuplicateWindow = d
	}
	for key, dst := range map[string]*int64{MetaStreamMaxBytes: &l.MaxBytes, MetaStreamMaxMsgs: &l.MaxMsgs} {
		if v := meta[key]; v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 1 {
				return l, fmt.Errorf("metadata %s: %q is not a whole number of 1 or more", key, v)
			}
			*dst = n
		}
	}
	l = l.WithDefaults()
	if l.DuplicateWindow > l.MaxAge {
		return l, fmt.Errorf("metadata %s: %s is longer than the stream keeps messages (%s %s)",
			MetaDuplicateWindow, l.DuplicateWindow, MetaStreamMaxAge, l.MaxAge)
	}
	return l, nil
}
