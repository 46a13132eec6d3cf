package activator

import (
	"slices"
	"time"
)

// Status is one function's state and counters, for funcd status.
type Status struct {
	Function string
	State    string // "zero", "starting", "running", "failed"
	// Error says why the function failed: what Activator.Fail recorded, or
	// its last failed start while no instance runs.
	Error         string
	Instances     int
	InFlight      int
	Waiting       int
	ColdStarts    int
	ColdStartP50  time.Duration
	ColdStartP99  time.Duration
	Requests      int64
	Deliveries    int64
	Failures      int64
	StartFailures int64
	ScaledDown    int64
}

// coldWindow is how many recent cold starts the percentiles cover.
const coldWindow = 1024

type stats struct {
	requests, deliveries, failures int64
	startFailures, scaledDown      int64
	coldStarts                     int
	cold                           []time.Duration // ring of the last coldWindow
}

func (s *stats) count(kind Kind) {
	if kind == Delivery {
		s.deliveries++
		return
	}
	s.requests++
}

func (s *stats) started(cold bool, took time.Duration) {
	if !cold {
		return
	}
	if len(s.cold) < coldWindow {
		s.cold = append(s.cold, took)
	} else {
		s.cold[s.coldStarts%coldWindow] = took
	}
	s.coldStarts++
}

// percentile returns the q-th quantile (0..1) of d, nearest rank.
func percentile(d []time.Duration, q float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	i := int(q*float64(len(s))+0.5) - 1
	return s[min(max(i, 0), len(s)-1)]
}

func (p *pool) status() Status {
	p.mu.Lock()
	defer p.mu.Unlock()
	st := Status{
		Function: p.name, Instances: len(p.slots), Waiting: p.waiting,
		ColdStarts: p.stats.coldStarts, Requests: p.stats.requests, Deliveries: p.stats.deliveries,
		Failures: p.stats.failures, StartFailures: p.stats.startFailures, ScaledDown: p.stats.scaledDown,
		ColdStartP50: percentile(p.stats.cold, 0.50), ColdStartP99: percentile(p.stats.cold, 0.99),
	}
	for _, s := range p.slots {
		st.InFlight += s.inflight
	}
	for s := range p.retiring {
		st.InFlight += s.inflight
	}
	switch {
	case p.failed != nil:
		st.State, st.Error = "failed", p.failed.Error()
	case len(p.slots) > 0:
		st.State = "running"
	case p.starting > 0:
		st.State = "starting"
	case p.lastErr != nil:
		st.State, st.Error = "failed", p.lastErr.Error()
	default:
		st.State = "zero"
	}
	return st
}
