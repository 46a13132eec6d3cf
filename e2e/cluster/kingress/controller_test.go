package kingress

import (
	"context"
	"log/slog"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"knative.dev/networking/pkg/apis/networking"
	"knative.dev/networking/pkg/apis/networking/v1alpha1"
	"knative.dev/networking/pkg/client/clientset/versioned/fake"
)

func TestControllerMarksItsIngressesReady(t *testing.T) {
	mine, theirs := ingress(), ingress()
	mine.ObjectMeta = metav1.ObjectMeta{Name: "fn", Namespace: "default", Generation: 2,
		Annotations: map[string]string{networking.IngressClassAnnotationKey: "test-class"}}
	theirs.ObjectMeta = metav1.ObjectMeta{Name: "other", Namespace: "default", Generation: 1,
		Annotations: map[string]string{networking.IngressClassAnnotationKey: "kourier.ingress.networking.knative.dev"}}
	client := fake.NewSimpleClientset(mine, theirs)
	gw := NewProxy(false, nil, slog.New(slog.DiscardHandler))
	c := &Controller{Client: client, Class: "test-class", Public: "pub.ns.svc.cluster.local",
		Private: "priv.ns.svc.cluster.local", Gateways: []*Proxy{gw}, Log: slog.New(slog.DiscardHandler)}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- c.Run(ctx) }()
	defer func() { cancel(); <-done }()

	deadline := time.Now().Add(10 * time.Second)
	for {
		got, err := client.NetworkingV1alpha1().Ingresses("default").Get(ctx, "fn", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if got.IsReady() {
			if lb := got.Status.PrivateLoadBalancer; lb == nil || lb.Ingress[0].DomainInternal != "priv.ns.svc.cluster.local" {
				t.Errorf("private load balancer = %+v, want the private gateway's Service", lb)
			}
			if lb := got.Status.PublicLoadBalancer; lb == nil || lb.Ingress[0].DomainInternal != "pub.ns.svc.cluster.local" {
				t.Errorf("public load balancer = %+v, want the public gateway's Service", lb)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("ingress not marked ready: %+v", got.Status)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if _, ok := gw.table.Load().Lookup("fn.default.svc.cluster.local", "/", func(string) string { return "" }, false); !ok {
		t.Error("the gateway has no route for the ingress it marked ready")
	}
	other, _ := client.NetworkingV1alpha1().Ingresses("default").Get(ctx, "other", metav1.GetOptions{})
	if other.Status.GetCondition(v1alpha1.IngressConditionReady) != nil {
		t.Error("an ingress of another class was touched")
	}
}
