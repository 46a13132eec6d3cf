package kingress

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	apierrs "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/tools/cache"
	"knative.dev/networking/pkg/apis/networking"
	"knative.dev/networking/pkg/apis/networking/v1alpha1"
	clientset "knative.dev/networking/pkg/client/clientset/versioned"
	informers "knative.dev/networking/pkg/client/informers/externalversions"
)

// Controller watches the Ingresses of one ingress class, gives both
// gateways the routing table they make, and marks each Ingress ready once
// its generation is in the table, with the gateways' Services as its load
// balancers.
type Controller struct {
	Client   clientset.Interface
	Class    string   // the networking.knative.dev/ingress.class it serves
	Public   string   // the public gateway's Service, name.namespace.svc.cluster.local
	Private  string   // the private gateway's Service
	Gateways []*Proxy // get every new table
	Log      *slog.Logger
	Resync   time.Duration
	changed  chan struct{}
}

// Run reconciles until ctx ends.
func (c *Controller) Run(ctx context.Context) error {
	c.changed = make(chan struct{}, 1)
	factory := informers.NewSharedInformerFactory(c.Client, c.Resync)
	inf := factory.Networking().V1alpha1().Ingresses()
	poke := func(any) {
		select {
		case c.changed <- struct{}{}:
		default:
		}
	}
	if _, err := inf.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    poke,
		UpdateFunc: func(_, o any) { poke(o) },
		DeleteFunc: poke,
	}); err != nil {
		return err
	}
	factory.Start(ctx.Done())
	defer factory.Shutdown()
	if !cache.WaitForCacheSync(ctx.Done(), inf.Informer().HasSynced) {
		return ctx.Err()
	}
	lister := inf.Lister()
	tick := time.NewTicker(10 * time.Second) // retries failed status updates
	defer tick.Stop()
	for {
		all, err := lister.List(labels.Everything())
		if err != nil {
			return err
		}
		c.reconcile(ctx, all)
		select {
		case <-ctx.Done():
			return nil
		case <-c.changed:
		case <-tick.C:
		}
	}
}

func (c *Controller) reconcile(ctx context.Context, all []*v1alpha1.Ingress) {
	var mine []*v1alpha1.Ingress
	for _, ing := range all {
		if ing.GetDeletionTimestamp() == nil && ing.Annotations[networking.IngressClassAnnotationKey] == c.Class {
			mine = append(mine, ing)
		}
	}
	t := Build(mine)
	for _, g := range c.Gateways {
		g.SetTable(t)
	}
	for _, ing := range mine {
		if ing.IsReady() {
			continue
		}
		if err := c.markReady(ctx, ing); err != nil {
			c.Log.Warn("status update failed", "ingress", ing.Namespace+"/"+ing.Name, "err", err)
		}
	}
}

func (c *Controller) markReady(ctx context.Context, ing *v1alpha1.Ingress) error {
	ing = ing.DeepCopy()
	ing.Status.InitializeConditions()
	ing.Status.MarkNetworkConfigured()
	ing.Status.MarkLoadBalancerReady(
		[]v1alpha1.LoadBalancerIngressStatus{{DomainInternal: c.Public}},
		[]v1alpha1.LoadBalancerIngressStatus{{DomainInternal: c.Private}},
	)
	ing.Status.ObservedGeneration = ing.Generation
	_, err := c.Client.NetworkingV1alpha1().Ingresses(ing.Namespace).UpdateStatus(ctx, ing, metav1.UpdateOptions{})
	if apierrs.IsConflict(err) {
		return nil // a newer version is on its way through the informer
	}
	if err != nil {
		return fmt.Errorf("update status of %s/%s: %w", ing.Namespace, ing.Name, err)
	}
	c.Log.Info("ingress ready", "ingress", ing.Namespace+"/"+ing.Name, "generation", ing.Generation,
		"hosts", hosts(ing))
	return nil
}

func hosts(ing *v1alpha1.Ingress) []string {
	var hs []string
	for _, r := range ing.Spec.Rules {
		hs = append(hs, r.Hosts...)
	}
	return hs
}
