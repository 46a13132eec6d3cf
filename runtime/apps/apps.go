package apps

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/funcd/funcd/runtime/multiapp"
	"github.com/funcd/funcd/runtime/resources"
	"github.com/funcd/funcd/runtime/runner"
	"github.com/funcd/funcd/runtime/sidecar"
	"github.com/funcd/funcd/runtime/subscriptions"
)

// Config configures the apps of one template.
type Config struct {
	Template *multiapp.Template
	// Components is an app's view of the pub/sub components (its daprd's:
	// Component scopes and topic rules applied).
	Components func(appID string) sidecar.Components
	// SubscribeAllowed refuses a subscription its component's access rules
	// forbid the app (subscriptionScopes, allowedTopics, protectedTopics).
	SubscribeAllowed func(appID, pubsub, topic string) error
	PubSubs          subscriptions.PubSubs
	// Resources are the Components, Subscriptions and Resiliency policies
	// loaded from every folder; each app gets those its daprd would load.
	Resources *resources.Set
	// ForFunctions reports unscoped Subscriptions that route to functions.
	ForFunctions func(resources.Subscription) bool
	KeepsAlive   func(resources.Component) bool
	Runner       *runner.Runner
	// APIToken, when set, is what every app's Dapr API requires; otherwise
	// each app gets a token of its own, made for this run.
	APIToken string
	Logger   *slog.Logger
}

// Apps is the running apps of a template.
type Apps struct {
	cfg    Config
	log    *slog.Logger
	client *http.Client
	apps   []*app
}

// Start gives every app its Dapr API, starts its command and, once it
// listens, its subscriptions. Apps start in template order; on error the
// ones started are stopped again.
func Start(ctx context.Context, cfg Config) (*Apps, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.ForFunctions == nil {
		cfg.ForFunctions = func(resources.Subscription) bool { return false }
	}
	a := &Apps{cfg: cfg, log: cfg.Logger,
		client: &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}}
	for _, spec := range cfg.Template.Apps {
		ap, err := a.start(ctx, spec)
		if err != nil {
			stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			defer cancel()
			return nil, errors.Join(fmt.Errorf("app %s: %w", spec.ID, err), a.Stop(stopCtx))
		}
		a.apps = append(a.apps, ap)
	}
	return a, nil
}

// Stop stops deliveries first (in-flight ones drain until ctx ends), then
// the apps' processes, then their Dapr APIs.
func (a *Apps) Stop(ctx context.Context) error {
	var errs []error
	var wg sync.WaitGroup
	var mu sync.Mutex
	for _, ap := range a.apps {
		wg.Go(func() {
			if err := ap.stop(ctx); err != nil {
				mu.Lock()
				errs = append(errs, fmt.Errorf("app %s: %w", ap.spec.ID, err))
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// Status is one app and what its subscriptions did.
type Status struct {
	ID            string
	PID           int // 0 when not running (done, or not started by funcd)
	HTTPPort      int
	GRPCPort      int
	Subscriptions []subscriptions.SubscriptionStatus
}

// Status reports every app, in template order.
func (a *Apps) Status() []Status {
	out := make([]Status, 0, len(a.apps))
	for _, ap := range a.apps {
		out = append(out, ap.status())
	}
	return out
}

func newToken() (string, error) {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("make an API token: %w", err)
	}
	return hex.EncodeToString(b), nil
}
