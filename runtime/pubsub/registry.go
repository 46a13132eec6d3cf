package pubsub

import (
	"errors"
	"fmt"
	"sort"
	"sync"
)

// Registry holds the open pub/sub components by name.
type Registry struct {
	mu    sync.RWMutex
	comps map[string]PubSub
	types map[string]string
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry {
	return &Registry{comps: map[string]PubSub{}, types: map[string]string{}}
}

// Add registers ps under name; a name can be registered once.
func (r *Registry) Add(name, typ string, ps PubSub) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dup := r.comps[name]; dup {
		return fmt.Errorf("pubsub %q is registered twice", name)
	}
	r.comps[name] = ps
	r.types[name] = typ
	return nil
}

// Get returns the component named name.
func (r *Registry) Get(name string) (PubSub, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	ps, ok := r.comps[name]
	return ps, ok
}

// Names lists the registered names, sorted.
func (r *Registry) Names() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	names := make([]string, 0, len(r.comps))
	for n := range r.comps {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Type returns the component type registered with name (e.g. pubsub.redis).
func (r *Registry) Type(name string) string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.types[name]
}

// Close closes every component.
func (r *Registry) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	var errs []error
	for name, ps := range r.comps {
		if err := ps.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close pubsub %s: %w", name, err))
		}
	}
	clear(r.comps)
	clear(r.types)
	return errors.Join(errs...)
}
