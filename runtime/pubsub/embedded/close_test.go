package embedded

import (
	"context"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	contrib "github.com/dapr/components-contrib/pubsub"
	"github.com/dapr/kit/logger"

	contribMetadata "github.com/dapr/components-contrib/metadata"

	"github.com/funcd/funcd/runtime/pubsub"
	"github.com/funcd/funcd/runtime/resources"
)

// stuck is a component whose Close never returns until release is closed,
// as components-contrib's Redis streams does when its blocking read sits on
// a connection its client no longer closes.
type stuck struct {
	release <-chan struct{}
	closing chan<- struct{}
}

func (s *stuck) Init(context.Context, contrib.Metadata) error           { return nil }
func (s *stuck) Features() []contrib.Feature                            { return nil }
func (s *stuck) Publish(context.Context, *contrib.PublishRequest) error { return nil }
func (s *stuck) Subscribe(context.Context, contrib.SubscribeRequest, contrib.Handler) error {
	return nil
}

func (s *stuck) GetComponentMetadata() contribMetadata.MetadataMap { return nil }

func (s *stuck) Close() error {
	s.closing <- struct{}{}
	<-s.release
	return nil
}

// TestCloseStuckInstance: a component instance whose Close never returns
// holds neither PubSub.Close nor a subscription's end longer than
// closeTimeout; Close reports which instances it left behind.
func TestCloseStuckInstance(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		defer close(release) // the abandoned Close calls end with the test
		closing := make(chan struct{}, 8)
		kinds["pubsub.test-stuck"] = kind{
			open: func(logger.Logger) contrib.PubSub {
				return &stuck{release: release, closing: closing}
			},
			consumerKey: "consumerID",
			closeOnEnd:  true,
		}
		defer delete(kinds, "pubsub.test-stuck")

		ps, err := Open(t.Context(), resources.Component{Name: "stuck", Type: "pubsub.test-stuck", Version: "v1"}, Options{})
		if err != nil {
			t.Fatal(err)
		}
		h := func(context.Context, *pubsub.Message) error { return nil }

		// A subscription that ends: its instance is closed in the
		// background, and Stopped still comes, closeTimeout later.
		ended, end := context.WithCancel(t.Context())
		stopped := make(chan time.Time, 1)
		sub := pubsub.Subscription{Topic: "orders", Consumer: "a", Stopped: func() { stopped <- time.Now() }}
		if err := ps.Subscribe(ended, sub, h); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		end()
		<-closing
		if got := (<-stopped).Sub(start); got != closeTimeout {
			t.Errorf("Stopped came %v after the subscription ended, want %v (closeTimeout)", got, closeTimeout)
		}

		// Close with two live subscriptions: their instances get
		// closeTimeout side by side, then the publishing instance.
		for _, consumer := range []string{"b", "c"} {
			if err := ps.Subscribe(t.Context(), pubsub.Subscription{Topic: "orders", Consumer: consumer}, h); err != nil {
				t.Fatal(err)
			}
		}
		start = time.Now()
		err = ps.Close()
		if got := time.Since(start); got != 2*closeTimeout {
			t.Errorf("Close returned after %v, want %v", got, 2*closeTimeout)
		}
		if err == nil || strings.Count(err.Error(), "left behind") != 3 {
			t.Errorf("Close: got %v, want three instances left behind", err)
		}
	})
}
