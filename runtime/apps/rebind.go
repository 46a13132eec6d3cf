package apps

import (
	"context"
	"errors"
	"reflect"
	"time"

	"github.com/funcd/funcd/runtime/resources"
)

// rebind runs after funcd restarted the app's process: it waits until the
// new process listens, reads its subscriptions again (its GET
// /dapr/subscribe may answer differently now; the declarative ones are
// those read when funcd started) and, when they changed, restarts the
// deliveries with them. ctx ends when the app stops.
func (a *Apps) rebind(ctx context.Context, ap *app) {
	if ap.spec.Port == 0 {
		return
	}
	if err := a.waitListening(ctx, ap); err != nil {
		a.log.Warn("app restarted but not ready: its subscriptions stay as they were", "app", ap.spec.ID, "error", err)
		return
	}
	ap.switchMu.Lock()
	defer ap.switchMu.Unlock()
	if ctx.Err() != nil {
		return
	}
	old := ap.releases
	ap.releases = nil
	for _, release := range old {
		release()
	}
	subs, err := a.subscriptions(ctx, ap)
	if err != nil {
		a.log.Error("app restarted: its subscriptions could not be read again; its deliveries stop", "app", ap.spec.ID, "error", err)
		if err := a.replaceSubscriptions(ctx, ap, nil); err != nil {
			a.log.Error("app restarted: stopping its deliveries", "app", ap.spec.ID, "error", err)
		}
		return
	}
	if reflect.DeepEqual(ap.bindingCfg.Subscriptions, subs) {
		a.log.Info("app restarted: same subscriptions", "app", ap.spec.ID)
		return
	}
	if err := a.replaceSubscriptions(ctx, ap, subs); err != nil {
		a.log.Error("app restarted: its new subscriptions did not start", "app", ap.spec.ID, "error", err)
		return
	}
	a.log.Info("app restarted: subscriptions read again", "app", ap.spec.ID, "subscriptions", describe(subs))
}

// replaceSubscriptions stops the deliveries and starts them again with
// subs; switchMu is held.
func (a *Apps) replaceSubscriptions(ctx context.Context, ap *app, subs []resources.Subscription) error {
	stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	err := ap.stopBindingLocked(stopCtx)
	ap.bindingCfg.Subscriptions = subs
	return errors.Join(err, ap.startBindingLocked(ctx))
}

// waitListening polls until the app listens on its port (its health check
// path answers), for as long as readyTimeout.
func (a *Apps) waitListening(ctx context.Context, ap *app) error {
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	for !a.listening(ctx, ap) {
		select {
		case <-ctx.Done():
			return context.Cause(ctx)
		case <-time.After(100 * time.Millisecond):
		}
	}
	return nil
}
