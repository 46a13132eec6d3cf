//go:build cluster

package cluster

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestCluster runs deploy/ as users run it, on a real single-node Kubernetes
// made here (cluster.sh): Knative Serving and Dapr's control plane from their
// own source and chart, Redis, the functions deployed with the real
// `func deploy`, curl through the ingress. Only the ingress's data plane
// (kingress) and, for the Kafka swap, the broker (kfake) are test fixtures.
//
//	make test-cluster                  (cold: builds every binary; see README)
//	KEEP_CLUSTER=1 make test-cluster   leaves the cluster up afterwards
//
// It prints a timeline: setup stages, Knative's cold start of
// order-processor, each order's way end to end, pods over time, and one
// order's trace as Jaeger (setup.sh TRACING=jaeger) gives it back.
func TestCluster(t *testing.T) {
	c := newCluster(t)
	tl := c.timeline
	defer func() {
		report := "\n" + tl.String()
		if c.pods != nil {
			report += "\n" + c.pods.chart(tl.start, 120)
		}
		t.Log(report + "\n" + c.summary())
	}()

	c.up(t)
	c.setup(t, "DEPLOY_WITH=func", "TRACING=jaeger")
	c.watch(t)

	t.Run("deployed as func.yaml says", func(t *testing.T) { checkServices(t, c) })
	t.Run("zero, one order, zero", func(t *testing.T) { scaleFromAndToZero(t, c) })
	t.Run("one order, one trace", func(t *testing.T) { oneTrace(t, c) })
	t.Run("binding killed mid-stream", func(t *testing.T) { bindingKilled(t, c) })
	t.Run("order-processor scales out", func(t *testing.T) { scaleOut(t, c) })
	t.Run("KEDA variant", func(t *testing.T) { kedaVariant(t, c) })
	t.Run("Kafka swap", func(t *testing.T) { kafkaSwap(t, c) })
	t.Run("teardown", func(t *testing.T) { teardown(t, c) })
}

// checkServices: func deploy made the Services that deploy/knative
// describes: the binding cluster-local with one pod and its function URL,
// daprd injected where Dapr is wanted and nowhere else.
func checkServices(t *testing.T, c *cluster) {
	for _, tc := range []struct {
		fn, jsonpath, want string
	}{
		{"funcd-binding", `{.metadata.labels.networking\.knative\.dev/visibility}`, "cluster-local"},
		{"funcd-binding", `{.spec.template.metadata.annotations.autoscaling\.knative\.dev/min-scale}`, "1"},
		{"funcd-binding", `{.spec.template.metadata.annotations.autoscaling\.knative\.dev/max-scale}`, "1"},
		{"order-processor", `{.spec.template.metadata.annotations.autoscaling\.knative\.dev/min-scale}`, "0"},
		{"order-processor", `{.spec.template.metadata.annotations.dapr\.io/enabled}`, "false"},
		{"checkout", `{.spec.template.metadata.annotations.dapr\.io/enabled}`, "true"},
	} {
		if got := c.kubectl(t, "get", "ksvc", tc.fn, "-o", "jsonpath="+tc.jsonpath); got != tc.want {
			t.Errorf("ksvc %s %s = %q, want %q", tc.fn, tc.jsonpath, got, tc.want)
		}
	}
	env := c.kubectl(t, "get", "ksvc", "funcd-binding", "-o", `jsonpath={range .spec.template.spec.containers[0].env[*]}{.name}={.value}{"\n"}{end}`)
	if !strings.Contains(env, "FUNCTION_URL_ORDER_PROCESSOR=http://order-processor.default.svc.cluster.local") {
		t.Errorf("the binding has no URL for order-processor:\n%s", env)
	}
	// TRACING=jaeger: every function exports to Jaeger with the OTel SDK's
	// variables (setup.sh's func.yaml edits, through func deploy).
	for _, fn := range []string{"checkout", "order-processor", "funcd-binding"} {
		env := c.kubectl(t, "get", "ksvc", fn, "-o", `jsonpath={range .spec.template.spec.containers[0].env[*]}{.name}={.value}{"\n"}{end}`)
		for _, want := range []string{"OTEL_EXPORTER_OTLP_ENDPOINT=http://jaeger.default.svc.cluster.local:4318", "OTEL_SERVICE_NAME=" + fn} {
			if !strings.Contains(env, want) {
				t.Errorf("ksvc %s: no %s in its env:\n%s", fn, want, env)
			}
		}
	}
}

// sidecars: daprd was injected into the pods of checkout and the binding,
// and not into order-processor's (read from running pods).
func sidecars(t *testing.T, c *cluster) {
	for fn, want := range map[string]bool{"checkout": true, "funcd-binding": true, "order-processor": false} {
		containers := c.kubectl(t, "get", "pods", "-l", "serving.knative.dev/service="+fn,
			"--field-selector=status.phase=Running", "-o", `jsonpath={.items[0].spec.containers[*].name}`)
		if has := strings.Contains(containers, "daprd"); has != want {
			t.Errorf("%s pod containers %q: daprd injected = %v, want %v", fn, containers, has, want)
		}
	}
}

// scaleFromAndToZero: with order-processor at zero pods, one order through
// the ingress reaches it: the binding's delivery goes to the activator, which
// starts a pod; after the retention window it is back at zero.
func scaleFromAndToZero(t *testing.T, c *cluster) {
	c.waitPods(t, "order-processor", 0, 5*time.Minute)
	rev := c.kubectl(t, "get", "ksvc", "order-processor", "-o", "jsonpath={.status.latestReadyRevisionName}")
	if mode := c.kubectl(t, "get", "sks", rev, "-o", "jsonpath={.spec.mode}"); mode != "Proxy" {
		t.Errorf("order-processor at zero: serverless service mode %q, want Proxy (requests go to the activator)", mode)
	}
	if !c.activatorEndpoints(t, "order-processor") {
		t.Error("order-processor at zero: its revision's Service does not point at the activator")
	}
	id := c.nextOrder()
	sent := time.Now()
	c.timeline.Mark("order %d sent to checkout (order-processor at zero)", id)
	if status := c.order(t, id); status != 200 {
		t.Fatalf("checkout answered %d to order %d, want 200", status, id)
	}
	pod := c.waitPodReady(t, "order-processor", sent, 2*time.Minute)
	c.timeline.Mark("order-processor pod %s ready: Knative cold start %.1fs", pod, time.Since(sent).Seconds())
	got := c.logs.wait(t, id, 2*time.Minute)
	c.timeline.Mark("order %d logged by order-processor: end to end %.1fs", id, got.Sub(sent).Seconds())
	c.coldStart, c.firstOrder = c.readyAt(pod).Sub(sent), got.Sub(sent)
	sidecars(t, c)
	c.waitPods(t, "order-processor", 0, 5*time.Minute)
	c.timeline.Mark("order-processor back at zero pods")
}

// bindingKilled: the binding's pod is killed (SIGKILL, no grace) while
// orders stream in; every order checkout accepted reaches order-processor.
func bindingKilled(t *testing.T, c *cluster) {
	const n = 3000
	load := c.startLoad(t, n, 8)
	load.waitAccepted(t, n/4, 5*time.Minute)
	pod := c.kubectl(t, "get", "pods", "-l", "serving.knative.dev/service=funcd-binding",
		"--field-selector=status.phase=Running", "-o", "jsonpath={.items[0].metadata.name}")
	c.kubectl(t, "delete", "pod", pod, "--grace-period=0", "--force", "--wait=false")
	at := load.accepted()
	c.timeline.Mark("binding pod %s killed (SIGKILL) after %d of %d orders accepted", pod, at, n)
	if load.finished() {
		t.Fatalf("the load ended before the kill: raise n")
	}
	accepted := load.wait(t, 10*time.Minute)
	c.timeline.Mark("load done: %d of %d orders accepted", len(accepted), n)
	missing := c.logs.waitAll(t, accepted, 6*time.Minute)
	if len(missing) > 0 {
		t.Fatalf("%d accepted orders never reached order-processor: %v", len(missing), missing)
	}
	c.timeline.Mark("every accepted order logged (%d duplicates: at-least-once redeliveries)", c.logs.duplicates(accepted))
}

// scaleOut: under load order-processor runs more than one pod.
func scaleOut(t *testing.T, c *cluster) {
	const n = 3000
	c.waitPods(t, "order-processor", 0, 5*time.Minute)
	c.timeline.Mark("order-processor at zero pods")
	load := c.startLoad(t, n, 48)
	accepted := load.wait(t, 10*time.Minute)
	c.timeline.Mark("load of %d orders: %d accepted", n, len(accepted))
	if missing := c.logs.waitAll(t, accepted, 6*time.Minute); len(missing) > 0 {
		t.Errorf("%d accepted orders never reached order-processor", len(missing))
	}
	got := c.pods.maxSince("order-processor", load.start)
	c.timeline.Mark("order-processor ran up to %d pods at once under the load", got)
	if got < 2 {
		t.Errorf("order-processor ran at most %d pod at once under load, want more than 1", got)
	}
}

// kedaVariant: order-processor as a Deployment whose daprd subscribes,
// scaled 0..5 by KEDA on the stream's lag; an order wakes it from zero and
// it goes back to zero after the cooldown.
func kedaVariant(t *testing.T, c *cluster) {
	// As deploy/README tells: start the new consumer group at the end of the
	// stream, or it replays every order the stream holds, with the entries
	// it has read, or its lag is unknown and KEDA reads it as 0.
	info := strings.Fields(c.kubectl(t, "exec", "deploy/redis", "--", "redis-cli", "XINFO", "STREAM", "orders"))
	read := "0"
	if i := slices.Index(info, "entries-added"); i >= 0 && i+1 < len(info) {
		read = info[i+1]
	}
	c.kubectl(t, "exec", "deploy/redis", "--", "redis-cli", "XGROUP", "CREATE", "orders", "order-processor", "$", "MKSTREAM", "ENTRIESREAD", read)
	if lag := c.kubectl(t, "exec", "deploy/redis", "--", "redis-cli", "XINFO", "GROUPS", "orders"); !strings.Contains(lag, "order-processor") {
		t.Fatalf("no consumer group order-processor on orders:\n%s", lag)
	}
	c.setup(t, "DEPLOY_WITH=func", "SUBSCRIBER=keda", "TRACING=jaeger")
	c.waitPods(t, "order-processor", 0, 5*time.Minute)
	c.timeline.Mark("KEDA: order-processor Deployment at zero pods")
	id := c.nextOrder()
	sent := time.Now()
	if status := c.order(t, id); status != 200 {
		t.Fatalf("checkout answered %d, want 200", status)
	}
	pod := c.waitPodReady(t, "order-processor", sent, 3*time.Minute)
	got := c.logs.wait(t, id, 3*time.Minute)
	c.timeline.Mark("KEDA: pod %s ready %.1fs after the order; order logged %.1fs after it",
		pod, c.readyAt(pod).Sub(sent).Seconds(), got.Sub(sent).Seconds())
	c.waitPods(t, "order-processor", 0, 5*time.Minute)
	c.timeline.Mark("KEDA: order-processor back at zero pods")
}

// kafkaSwap: the same functions and YAML on Kafka instead of Redis (one
// file), setup.sh run again, this time without TRACING, which takes tracing
// away again; an order goes through.
func kafkaSwap(t *testing.T, c *cluster) {
	c.setup(t, "DEPLOY_WITH=func", "PUBSUB=kafka")
	tracingOff(t, c)
	id := c.nextOrder()
	sent := time.Now()
	if status := c.order(t, id); status != 200 {
		t.Fatalf("checkout on Kafka answered %d, want 200", status)
	}
	got := c.logs.wait(t, id, 3*time.Minute)
	c.timeline.Mark("Kafka: order %d logged by order-processor, end to end %.1fs", id, got.Sub(sent).Seconds())
}

// teardown: deploy/teardown.sh removes the order system from the cluster,
// then (REMOVE_PLATFORM=1) Dapr, KEDA and Knative too.
func teardown(t *testing.T, c *cluster) {
	c.run(t, "teardown", "REMOVE_PLATFORM=") // whatever the test's environment says
	if got := c.kubectl(t, "get", "ksvc,deployment,configmap", "-o", "name"); strings.Contains(got, "checkout") ||
		strings.Contains(got, "redis") || strings.Contains(got, "funcd-binding-resources") {
		t.Errorf("after teardown.sh, still there:\n%s", got)
	}
	c.run(t, "teardown", "REMOVE_PLATFORM=1")
	if got := c.kubectl(t, "get", "namespaces", "-o", "name"); strings.Contains(got, "knative-serving") ||
		strings.Contains(got, "dapr-system") || strings.Contains(got, "keda") {
		t.Errorf("after teardown.sh REMOVE_PLATFORM=1, namespaces left:\n%s", got)
	}
	if got := c.kubectl(t, "get", "crd", "-o", "name"); strings.Contains(got, "knative.dev") || strings.Contains(got, "dapr.io") {
		t.Errorf("after teardown.sh REMOVE_PLATFORM=1, CRDs left:\n%s", got)
	}
	c.timeline.Mark("deploy/teardown.sh removed the order system, then the platform")
}

func (c *cluster) summary() string {
	return fmt.Sprintf("Knative cold start of order-processor %.1fs; first order end to end %.1fs",
		c.coldStart.Seconds(), c.firstOrder.Seconds())
}
