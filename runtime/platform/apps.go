package platform

import (
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/funcd/funcd/runtime/apps"
	"github.com/funcd/funcd/runtime/funcbuild"
	"github.com/funcd/funcd/runtime/multiapp"
	"github.com/funcd/funcd/runtime/pubsub/embedded"
	"github.com/funcd/funcd/runtime/resources"
	"github.com/funcd/funcd/runtime/sidecar"
)

// loadResources reads ResourcesDir and, with apps, every app's resource
// folder. A Component defined the same way in several folders is opened
// once; defined differently, it is an error, since all share one broker.
func (p *Platform) loadResources() (*resources.Set, error) {
	var dirs []string
	if p.cfg.ResourcesDir != "" {
		dirs = append(dirs, p.cfg.ResourcesDir)
	}
	if p.cfg.Apps != nil {
		for _, d := range p.cfg.Apps.ResourceDirs() {
			if !slices.Contains(dirs, d) {
				dirs = append(dirs, d)
			}
		}
	}
	set := &resources.Set{}
	for _, d := range dirs {
		s, err := resources.Load(d, p.cfg.lookup)
		if err != nil {
			return nil, err
		}
		if err := merge(set, s); err != nil {
			return nil, err
		}
	}
	return set, nil
}

func merge(into, s *resources.Set) error {
	for _, c := range s.Components {
		prev, dup := into.Component(c.Name)
		switch {
		case !dup:
			into.Components = append(into.Components, c)
		case prev.Type != c.Type || prev.Version != c.Version || !maps.Equal(prev.Metadata, c.Metadata) || !slices.Equal(prev.Scopes, c.Scopes):
			return fmt.Errorf("component %q is defined differently in %s and %s: the apps and functions of one run share each component; keep one definition", c.Name, prev.File, c.File)
		}
	}
	into.Subscriptions = append(into.Subscriptions, s.Subscriptions...)
	into.Resiliencies = append(into.Resiliencies, s.Resiliencies...)
	into.Skipped = append(into.Skipped, s.Skipped...)
	return nil
}

// discover finds the functions; a folder of Dapr apps may have none.
func (p *Platform) discover() ([]funcbuild.Function, error) {
	if p.cfg.FunctionsDir == "" {
		return nil, nil
	}
	return funcbuild.Discover(p.cfg.FunctionsDir)
}

// forFunctions decides which Subscriptions deliver to functions. Without
// apps, all do. With apps, a scoped Subscription does when its scopes
// name a function, an unscoped one when every route names a function; the
// others are for the apps whose resource folders hold them (apps.Declared).
func forFunctions(withApps bool, fns []funcbuild.Function) func(resources.Subscription) bool {
	if !withApps {
		return func(resources.Subscription) bool { return true }
	}
	isFn := func(name string) bool {
		return slices.ContainsFunc(fns, func(f funcbuild.Function) bool { return f.Name == name })
	}
	return func(s resources.Subscription) bool {
		if len(s.Scopes) > 0 {
			return slices.ContainsFunc(s.Scopes, isFn)
		}
		paths := s.Paths()
		return len(paths) > 0 && !slices.ContainsFunc(paths, func(path string) bool { return !isFn(resources.Function(path)) })
	}
}

// functionSubscriptions are the Subscriptions the functions' binding runs.
func (p *Platform) functionSubscriptions(set *resources.Set) []resources.Subscription {
	var out []resources.Subscription
	for _, s := range set.Subscriptions {
		if p.forFunctions(s) {
			out = append(out, s)
		}
	}
	return out
}

// startApps starts the Dapr apps of Config.Apps, after the functions, so
// that what an app publishes at start reaches them.
func (p *Platform) startApps(ctx context.Context, set *resources.Set) error {
	if p.cfg.Apps == nil {
		return nil
	}
	for _, app := range p.cfg.Apps.Apps {
		if _, ok := p.lookup(app.ID); ok {
			return fmt.Errorf("%s: appID %q is also the name of a function; give the app another id", p.cfg.Apps.File, app.ID)
		}
	}
	p.warnUnused(set)
	var token string
	if p.cfg.APIToken != "" {
		token = p.cfg.APIToken // the user's token opens every Dapr API
	}
	var err error
	p.apps, err = apps.Start(ctx, apps.Config{
		Template: p.cfg.Apps,
		Components: func(appID string) sidecar.Components {
			return scoped{comps: sidecar.FromRegistry(p.pubsubs), app: appID, policy: p.access, log: p.log}
		},
		SubscribeAllowed: p.access.Subscribe,
		PubSubs:          p.pubsubs, Resources: set, ForFunctions: p.forFunctions,
		KeepsAlive: embedded.KeepsAlive, Runner: p.runner, APIToken: token, Logger: p.log,
	})
	return err
}

// Apps reports the Dapr apps and what their subscriptions did; nil
// without Config.Apps.
func (p *Platform) Apps() []apps.Status {
	if p.apps == nil {
		return nil
	}
	return p.apps.Status()
}

// warnUnused names the Subscriptions that neither the functions nor any
// app take: their routes name no function and no app loads their folder.
func (p *Platform) warnUnused(set *resources.Set) {
	for _, s := range set.Subscriptions {
		if p.forFunctions(s) {
			continue
		}
		used := slices.ContainsFunc(p.cfg.Apps.Apps, func(a multiapp.App) bool {
			return len(apps.Declared([]resources.Subscription{s}, a.ID, a.ResourcesPaths, p.forFunctions)) > 0
		})
		if !used {
			p.log.Warn("subscription not started: its routes name no function, and no app loads it (scopes, resourcesPath)",
				"subscription", s.Name, "file", s.File, "routes", s.Paths(), "scopes", s.Scopes)
		}
	}
}
