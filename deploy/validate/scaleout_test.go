package validate

import (
	"math"
	"path/filepath"
	"strconv"
	"testing"

	"knative.dev/serving/pkg/apis/autoscaling"
	servingv1 "knative.dev/serving/pkg/apis/serving/v1"
)

// podTarget is the number of requests in flight per pod Knative's
// concurrency autoscaler aims at: autoscaling.knative.dev/target, else
// containerConcurrency, times target-utilization-percentage.
func podTarget(t *testing.T, svc *servingv1.Service) float64 {
	t.Helper()
	anns := svc.Spec.Template.Annotations
	if m := anns[autoscaling.MetricAnnotationKey]; m != autoscaling.Concurrency {
		t.Fatalf("%s: metric %q, want %q: the binding's deliveries are in-flight requests", svc.Name, m, autoscaling.Concurrency)
	}
	target := 0.0
	if v, ok := anns[autoscaling.TargetAnnotationKey]; ok {
		target = number(t, svc.Name+" "+autoscaling.TargetAnnotationKey, v)
	} else if cc := svc.Spec.Template.Spec.ContainerConcurrency; cc != nil && *cc > 0 {
		target = float64(*cc)
	} else {
		t.Fatalf("%s: set containerConcurrency or %s: the scale-out relation needs the per-pod target", svc.Name, autoscaling.TargetAnnotationKey)
	}
	util := number(t, svc.Name+" "+autoscaling.TargetUtilizationPercentageKey, anns[autoscaling.TargetUtilizationPercentageKey])
	return target * util / 100
}

func number(t *testing.T, what, v string) float64 {
	t.Helper()
	n, err := strconv.ParseFloat(v, 64)
	if err != nil || n <= 0 {
		t.Fatalf("%s: %q is not a positive number (set it explicitly)", what, v)
	}
	return n
}

// kafkaPartitions is KAFKA_NUM_PARTITIONS of the Kafka broker manifest: the
// partitions of the topics Dapr auto-creates.
func kafkaPartitions(t *testing.T) float64 {
	t.Helper()
	file := filepath.Join(deployDir, "brokers", "kafka.yaml")
	for _, doc := range Docs(read(t, file)) {
		if _, kind, _, _ := TypeMeta(doc); kind != "Deployment" {
			continue
		}
		d, err := Deployment(doc)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range d.Spec.Template.Spec.Containers[0].Env {
			if e.Name == "KAFKA_NUM_PARTITIONS" {
				return number(t, file+" KAFKA_NUM_PARTITIONS", e.Value)
			}
		}
	}
	t.Fatalf("%s: set KAFKA_NUM_PARTITIONS (the broker's default is 1)", file)
	return 0
}

// TestScaleOut: order-processor can scale out on the binding's deliveries.
// Knative scales on requests in flight, and the binding has at most as many
// in flight as both the Component hands over at once (Redis: concurrency
// workers; Kafka: one message per partition) and the Subscription allows
// (maxConcurrency). That number must exceed one pod's target, or no second
// pod ever starts, and should keep every pod max-scale allows at its
// target. The Subscription must take all the Component hands over, so no
// message waits inside the binding while its redelivery timeout runs.
func TestScaleOut(t *testing.T) {
	op := knativeServices(t)["order-processor"]
	if op == nil {
		t.Fatal("no Knative Service order-processor")
	}
	target := podTarget(t, op)
	maxScale := number(t, "order-processor max-scale", op.Spec.Template.Annotations[autoscaling.MaxScaleAnnotationKey])

	subs := dapr(t, filepath.Join(deployDir, "dapr", "subscription.yaml")).Subscriptions
	if len(subs) != 1 {
		t.Fatalf("deploy/dapr/subscription.yaml: want one Subscription, got %d", len(subs))
	}
	maxConc := number(t, "subscription maxConcurrency", subs[0].Spec.Metadata["maxConcurrency"])

	redis := component(t, filepath.Join(deployDir, "dapr", "pubsub.yaml"))
	for _, tt := range []struct {
		name    string
		handsOn float64 // messages the component hands over at once
	}{
		{"redis concurrency", number(t, "dapr/pubsub.yaml concurrency", redis.Metadata["concurrency"])},
		{"kafka partitions", kafkaPartitions(t)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			inFlight := math.Min(tt.handsOn, maxConc)
			if inFlight <= target {
				t.Errorf("at most %v deliveries in flight (%s %v, maxConcurrency %v), want more than one pod's target %v: order-processor never scales past one pod",
					inFlight, tt.name, tt.handsOn, maxConc, target)
			}
			if pods := math.Ceil(inFlight / target); pods < maxScale {
				t.Errorf("%v deliveries in flight keep %v pods at their target of %v, want max-scale %v", inFlight, pods, target, maxScale)
			}
			if maxConc < tt.handsOn {
				t.Errorf("maxConcurrency %v < %s %v: messages would wait inside the binding while their redelivery timeout runs", maxConc, tt.name, tt.handsOn)
			}
		})
	}
}
