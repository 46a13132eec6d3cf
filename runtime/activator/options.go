package activator

import (
	"errors"
	"fmt"
	"strconv"
	"time"
)

// Knative annotations read from func.yaml deploy.annotations.
const (
	AnnotationRetention = "autoscaling.knative.dev/scale-to-zero-pod-retention-period"
	AnnotationMinScale  = "autoscaling.knative.dev/min-scale"
	AnnotationMaxScale  = "autoscaling.knative.dev/max-scale"
)

// Defaults, chosen to feel like Knative.
const (
	DefaultIdle         = 30 * time.Second // Knative's scale-to-zero grace period
	DefaultQueueSize    = 1000
	DefaultQueueTimeout = 30 * time.Second
)

// Options configures one function's scaling.
type Options struct {
	// MinScale instances always run (0: scale to zero).
	MinScale int
	// MaxScale caps instances (0: one instance per Concurrency's worth of
	// load, without limit; with Concurrency 0 that is one instance).
	MaxScale int
	// Concurrency caps in-flight requests per instance (0: unlimited).
	Concurrency int
	// Idle is how long an instance may go without requests before it stops.
	Idle time.Duration
	// QueueSize bounds how many callers wait for capacity; more get
	// ErrOverloaded.
	QueueSize int
	// QueueTimeout bounds one caller's wait for capacity.
	QueueTimeout time.Duration
}

func (o Options) withDefaults() Options {
	if o.Idle == 0 {
		o.Idle = DefaultIdle
	}
	if o.QueueSize == 0 {
		o.QueueSize = DefaultQueueSize
	}
	if o.QueueTimeout == 0 {
		o.QueueTimeout = DefaultQueueTimeout
	}
	return o
}

// Validate reports options that cannot work.
func (o Options) Validate() error {
	var errs []error
	if o.MinScale < 0 || o.MaxScale < 0 || o.Concurrency < 0 {
		errs = append(errs, errors.New("min scale, max scale and concurrency must not be negative"))
	}
	if o.MaxScale > 0 && o.MinScale > o.MaxScale {
		errs = append(errs, fmt.Errorf("min scale %d is above max scale %d", o.MinScale, o.MaxScale))
	}
	if o.Idle < 0 || o.QueueTimeout < 0 || o.QueueSize < 0 {
		errs = append(errs, errors.New("idle, queue size and queue timeout must not be negative"))
	}
	return errors.Join(errs...)
}

// FromAnnotations overrides o with the Knative annotations present in ann.
// Errors name the annotation.
func (o Options) FromAnnotations(ann map[string]string) (Options, error) {
	o = o.withDefaults()
	if v, ok := ann[AnnotationRetention]; ok {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			return o, fmt.Errorf("%s: %q is not a duration such as 30s or 1m", AnnotationRetention, v)
		}
		o.Idle = max(d, time.Millisecond) // "0s": stop as soon as idle
	}
	for key, dst := range map[string]*int{AnnotationMinScale: &o.MinScale, AnnotationMaxScale: &o.MaxScale} {
		if v, ok := ann[key]; ok {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				return o, fmt.Errorf("%s: %q is not a whole number >= 0", key, v)
			}
			*dst = n
		}
	}
	return o, o.Validate()
}
