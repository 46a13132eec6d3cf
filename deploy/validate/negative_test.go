package validate

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

// Each check must reject a broken manifest. Every case starts from a valid
// inline manifest (checked first, so a failure is due to the one change)
// and applies one edit.

const goodKsvc = `
apiVersion: serving.knative.dev/v1
kind: Service
metadata:
  name: fn
spec:
  template:
    metadata:
      annotations:
        autoscaling.knative.dev/min-scale: "0"
        dapr.io/enabled: "true"
        dapr.io/app-id: fn
        dapr.io/app-port: "8080"
        dapr.io/metrics-port: "9092"
        dapr.io/enable-app-health-check: "true"
        dapr.io/app-health-check-path: /health/readiness
    spec:
      containers:
        - image: localhost:5001/funcd/fn:latest
          ports:
            - containerPort: 8080
`

const goodScaledObject = `
apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata:
  name: fn
spec:
  scaleTargetRef:
    name: fn
  minReplicaCount: 0
  maxReplicaCount: 3
  triggers:
    - type: redis-streams
      metadata:
        address: redis:6379
        stream: orders
        consumerGroup: fn
        lagCount: "10"
`

const goodDeployment = `
apiVersion: apps/v1
kind: Deployment
metadata:
  name: fn
spec:
  selector:
    matchLabels:
      app: fn
  template:
    metadata:
      labels:
        app: fn
      annotations:
        dapr.io/enabled: "true"
        dapr.io/app-id: fn
        dapr.io/app-port: "8080"
    spec:
      containers:
        - name: fn
          image: localhost:5001/funcd/fn:latest
          ports:
            - name: http
              containerPort: 8080
          readinessProbe:
            httpGet:
              path: /health/readiness
              port: http
`

const goodComponent = `
apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: orderpubsub
spec:
  type: pubsub.redis
  version: v1
  metadata:
    - name: redisHost
      value: redis:6379
    - name: consumerID
      value: "{appID}"
scopes:
  - checkout
`

const goodSubscription = `
apiVersion: dapr.io/v2alpha1
kind: Subscription
metadata:
  name: fn-orders
spec:
  pubsubname: orderpubsub
  topic: orders
  routes:
    default: /fn
scopes:
  - fn
`

const goodResiliency = `
apiVersion: dapr.io/v1alpha1
kind: Resiliency
metadata:
  name: fn-deliveries
spec:
  policies:
    timeouts:
      delivery: 10s
    retries:
      delivery:
        policy: exponential
        maxInterval: 2s
        maxRetries: 3
    circuitBreakers:
      fn:
        maxRequests: 1
        timeout: 30s
        trip: consecutiveFailures > 10
  targets:
    apps:
      fn:
        timeout: delivery
    components:
      orderpubsub:
        inbound:
          timeout: delivery
          retry: delivery
          circuitBreaker: fn
scopes:
  - fn
`

const goodSubscriptionV1 = `
apiVersion: dapr.io/v1alpha1
kind: Subscription
metadata:
  name: fn-orders
spec:
  pubsubname: orderpubsub
  topic: orders
  route: /fn
scopes:
  - fn
`

const goodKind = `
kind: Cluster
apiVersion: kind.x-k8s.io/v1alpha4
nodes:
  - role: control-plane
    image: kindest/node:v1.37.0@sha256:a1ed56cfb0e7b93589bdf97c8cd566405a265939e3620fc4f5de89adff580ae5
`

const goodConfiguration = `
apiVersion: dapr.io/v1alpha1
kind: Configuration
metadata:
  name: tracing
spec:
  tracing:
    samplingRate: "1"
    otel:
      protocol: http
      endpointAddress: jaeger.default.svc.cluster.local:4318
      isSecure: false
`

// goodKsvcTraced is goodKsvc naming goodConfiguration.
var goodKsvcTraced = strings.Replace(goodKsvc, "        dapr.io/enabled: \"true\"\n",
	"        dapr.io/enabled: \"true\"\n        dapr.io/config: tracing\n", 1)

// edit is one textual change to a good manifest.
type edit struct{ old, new string }

func (e edit) apply(t *testing.T, good string) []byte {
	t.Helper()
	if e.old == "" {
		return []byte(good)
	}
	if !strings.Contains(good, e.old) {
		t.Fatalf("test bug: %q is not in the manifest", e.old)
	}
	return []byte(strings.Replace(good, e.old, e.new, 1))
}

func checkKsvc(doc []byte) error {
	_, err := KnativeService(context.Background(), doc)
	return err
}

func checkScaledObject(doc []byte) error {
	_, _, err := ScaledObject(doc)
	return err
}

func checkKEDADeployment(doc []byte) error {
	_, err := KEDADeployment(doc)
	return err
}

// checkComponent decodes a Component into Dapr's type and checks it
// against components-contrib's metadata.yaml in contrib.
func checkComponent(contrib string) func([]byte) error {
	return func(doc []byte) error {
		set, err := DecodeDapr("inline.yaml", doc)
		if err != nil {
			return err
		}
		for _, c := range set.Components {
			if err := CheckComponent(c, contrib); err != nil {
				return err
			}
		}
		return nil
	}
}

func checkConsumerNames(doc []byte) error {
	set, err := DecodeDapr("inline.yaml", doc)
	if err != nil {
		return err
	}
	for _, c := range set.Components {
		if err := ConsumerNames(c.Spec.Type, c.Metadata); err != nil {
			return err
		}
	}
	return nil
}

func checkSubscription(doc []byte) error {
	set, err := DecodeDapr("inline.yaml", doc)
	if err != nil {
		return err
	}
	for _, s := range set.Subscriptions {
		if err := CheckSubscription(s); err != nil {
			return err
		}
	}
	return SubscriptionScopes(set.Subscriptions, bindingName)
}

func checkResiliency(doc []byte) error {
	set, err := DecodeDapr("inline.yaml", doc)
	if err != nil {
		return err
	}
	return CheckResiliencies(set.Resiliencies)
}

func checkConfiguration(doc []byte) error {
	set, err := DecodeDapr("inline.yaml", doc)
	if err != nil {
		return err
	}
	var errs []error
	for _, c := range set.Configurations {
		errs = append(errs, CheckConfiguration(c))
	}
	return errors.Join(errs...)
}

// checkKsvcConfig checks a Knative Service and that its dapr.io/config
// names goodConfiguration.
func checkKsvcConfig(doc []byte) error {
	svc, err := KnativeService(context.Background(), doc)
	if err != nil {
		return err
	}
	set, err := DecodeDapr("inline.yaml", []byte(goodConfiguration))
	if err != nil {
		return err
	}
	return DaprConfigRef(svc.Spec.Template.Annotations, set.Configurations)
}

func checkJaeger(doc []byte) error {
	_, err := CheckJaeger(doc)
	return err
}

func checkKind(doc []byte) error {
	_, err := KindCluster(doc)
	return err
}

func TestChecksRejectBrokenManifests(t *testing.T) {
	checkComponent := checkComponent(contribDir(t))
	goodJaeger := string(read(t, filepath.Join(deployDir, "tracing", "jaeger.yaml")))
	tests := []struct {
		name  string
		check func([]byte) error
		good  string
		edit  edit
		want  string // in the error
	}{
		// Knative Service: strict decoding and Knative's own validation.
		{"ksvc: misspelled field", checkKsvc, goodKsvc, edit{"- image:", "- imgae:"}, `unknown field "imgae"`},
		{"ksvc: negative min-scale", checkKsvc, goodKsvc, edit{`min-scale: "0"`, `min-scale: "-1"`}, "autoscaling.knative.dev/min-scale"},
		{"ksvc: no image", checkKsvc, goodKsvc, edit{"- image: localhost:5001/funcd/fn:latest\n", "- name: app\n"}, "image"},
		{"ksvc: reserved port", checkKsvc, goodKsvc, edit{"containerPort: 8080", "containerPort: 8012"}, "reserved"},
		{"ksvc: unknown autoscaling key", checkKsvc, goodKsvc, edit{"autoscaling.knative.dev/min-scale", "autoscaling.knative.dev/minscale"}, "unknown annotation autoscaling.knative.dev/minscale"},
		{"ksvc: autoscaling on the Service", checkKsvc, goodKsvc, edit{"  name: fn\n", "  name: fn\n  annotations:\n    autoscaling.knative.dev/max-scale: \"3\"\n"}, "has no effect"},
		// dapr.io annotations, against Dapr 1.16's injector.
		{"dapr: unknown key", checkKsvc, goodKsvc, edit{"dapr.io/app-health-check-path", "dapr.io/app-health-check-paht"}, "unknown annotation dapr.io/app-health-check-paht"},
		{"dapr: bool typo", checkKsvc, goodKsvc, edit{`dapr.io/enabled: "true"`, `dapr.io/enabled: "ture"`}, `dapr.io/enabled: "ture"`},
		{"dapr: port not a number", checkKsvc, goodKsvc, edit{`dapr.io/app-port: "8080"`, `dapr.io/app-port: "80a"`}, `dapr.io/app-port: "80a"`},
		{"dapr: app-port not the container's", checkKsvc, goodKsvc, edit{`dapr.io/app-port: "8080"`, `dapr.io/app-port: "8081"`}, "not a port of the app container"},
		{"dapr: metrics port collides with queue-proxy", checkKsvc, goodKsvc, edit{`        dapr.io/metrics-port: "9092"` + "\n", ""}, "taken by queue-proxy"},
		{"dapr: no app id", checkKsvc, goodKsvc, edit{"        dapr.io/app-id: fn\n", ""}, "dapr.io/app-id is required"},
		{"dapr: health path without health check", checkKsvc, goodKsvc, edit{`dapr.io/enable-app-health-check: "true"`, `dapr.io/enable-app-health-check: "false"`}, "has no effect without dapr.io/enable-app-health-check"},
		{"dapr: health check on /healthz", checkKsvc, goodKsvc, edit{"        dapr.io/app-health-check-path: /health/readiness\n", ""}, "405"},
		{"dapr: bad shutdown duration", checkKsvc, goodKsvc, edit{`dapr.io/app-port: "8080"`, "dapr.io/app-port: \"8080\"\n        dapr.io/block-shutdown-duration: \"30\""}, "block-shutdown-duration"},
		// KEDA ScaledObject and its Deployment.
		{"keda: misspelled field", checkScaledObject, goodScaledObject, edit{"minReplicaCount", "minReplicas"}, `unknown field "minReplicas"`},
		{"keda: pending entries cannot wake from zero", checkScaledObject, goodScaledObject, edit{`lagCount: "10"`, `pendingEntriesCount: "10"`}, "lagCount > 0 are required"},
		{"keda: lagCount not a number", checkScaledObject, goodScaledObject, edit{`lagCount: "10"`, `lagCount: "ten"`}, "lagCount"},
		{"keda: unknown trigger metadata", checkScaledObject, goodScaledObject, edit{"consumerGroup: fn", "consumerGroupName: fn"}, `unknown metadata "consumerGroupName"`},
		{"keda: no address", checkScaledObject, goodScaledObject, edit{"        address: redis:6379\n", ""}, "address"},
		{"keda: not to zero", checkScaledObject, goodScaledObject, edit{"minReplicaCount: 0", "minReplicaCount: 1"}, "minReplicaCount must be 0"},
		{"keda: min above max", checkScaledObject, goodScaledObject, edit{"maxReplicaCount: 3", "maxReplicaCount: 0"}, "must be less than MaxReplicaCount"},
		{"keda deployment: replicas set", checkKEDADeployment, goodDeployment, edit{"spec:\n  selector:", "spec:\n  replicas: 1\n  selector:"}, "KEDA owns the replica count"},
		{"keda deployment: selector mismatch", checkKEDADeployment, goodDeployment, edit{"      labels:\n        app: fn", "      labels:\n        app: other"}, "does not match"},
		{"keda deployment: probe on unknown port", checkKEDADeployment, goodDeployment, edit{"port: http", "port: web"}, "probe port web"},
		{"keda deployment: dapr bool typo", checkKEDADeployment, goodDeployment, edit{`dapr.io/enabled: "true"`, `dapr.io/enabled: "yes please"`}, "dapr.io/enabled"},
		// Dapr resources in Dapr 1.16's own types; Components against
		// components-contrib's metadata.yaml.
		{"component: misspelled metadata", checkComponent, goodComponent, edit{"name: redisHost", "name: redisHots"}, `unknown metadata "redisHots"`},
		{"component: another type's metadata", checkComponent, goodComponent, edit{"name: redisHost", "name: brokers"}, `unknown metadata "brokers"`},
		{"component: unknown field", checkComponent, goodComponent, edit{"  version: v1", "  versoin: v1"}, `unknown field "versoin"`},
		{"component: no such type", checkComponent, goodComponent, edit{"pubsub.redis", "pubsub.rediss"}, "components-contrib has no pubsub/rediss/metadata.yaml"},
		{"component: wrong version", checkComponent, goodComponent, edit{"version: v1", "version: v2"}, `version "v2", components-contrib has "v1"`},
		{"component: redeliverInterval with a unit", checkComponent, goodComponent, edit{"  metadata:\n", "  metadata:\n    - name: redeliverInterval\n      value: 15s\n"}, "is ignored"},
		{"component: value and envRef", checkComponent, goodComponent, edit{"      value: redis:6379", "      value: redis:6379\n      envRef: REDIS"}, "more than one of value"},
		{"subscription: misspelled field", checkSubscription, goodSubscription, edit{"topic:", "topik:"}, `unknown field "topik"`},
		{"subscription v1alpha1: v2alpha1 routes", checkSubscription, goodSubscriptionV1, edit{"route: /fn", "routes:\n    default: /fn"}, `unknown field "routes"`},
		{"subscription v1alpha1: no route", checkSubscription, goodSubscriptionV1, edit{"  route: /fn\n", ""}, "a route is required"},
		{"resiliency: actors-only field on an app", checkResiliency, goodResiliency, edit{"        timeout: delivery\n    components:", "        timeout: delivery\n        circuitBreakerScope: id\n    components:"}, `unknown field "circuitBreakerScope"`},
		{"resiliency: bad timeout", checkResiliency, goodResiliency, edit{"delivery: 10s", "delivery: 10 s"}, "timeouts.delivery"},
		{"resiliency: unknown retry policy", checkResiliency, goodResiliency, edit{"policy: exponential", "policy: linear"}, "unexpected back off policy type: linear"},
		{"resiliency: bad maxInterval", checkResiliency, goodResiliency, edit{"maxInterval: 2s", "maxInterval: soon"}, "retries.delivery"},
		{"resiliency: bad breaker timeout", checkResiliency, goodResiliency, edit{"timeout: 30s", "timeout: half a minute"}, "circuitBreakers.fn"},
		{"resiliency: undefined policy", checkResiliency, goodResiliency, edit{"          retry: delivery", "          retry: deliveryRetry"}, `retry policy "deliveryRetry" is not defined`},
		{"component: a consumer group per pod", checkConsumerNames, goodComponent, edit{`value: "{appID}"`, `value: "{podName}"`}, "each replica would be its own consumer group"},
		{"component: a random consumer group", checkConsumerNames, goodComponent, edit{`value: "{appID}"`, `value: "orders-{uuid}"`}, "contains {uuid}"},
		{"component: kafka without a name per pod", checkConsumerNames, goodComponent, edit{"pubsub.redis", "pubsub.kafka"}, `give each pod its own name`},
		{"subscription: no route", checkSubscription, goodSubscription, edit{"  routes:\n    default: /fn\n", ""}, "a route is required"},
		{"subscription: scoped to the binding", checkSubscription, goodSubscription, edit{"  - fn", "  - " + bindingName}, "a loop"},
		{"subscription: unscoped", checkSubscription, goodSubscription, edit{"scopes:\n  - fn\n", ""}, "no scopes"},
		// Tracing: the Dapr Configuration in Dapr 1.16's own type, as daprd
		// exports with it; the annotation that names it; Jaeger.
		{"configuration: misspelled field", checkConfiguration, goodConfiguration, edit{"samplingRate:", "sampleRate:"}, `unknown field "sampleRate"`},
		{"configuration: zipkin's key under otel", checkConfiguration, goodConfiguration, edit{"endpointAddress:", "endpoint:"}, `unknown field "endpoint"`},
		{"configuration: a percentage", checkConfiguration, goodConfiguration, edit{`samplingRate: "1"`, `samplingRate: "100%"`}, "not a number from 0 to 1"},
		{"configuration: rate above 1", checkConfiguration, goodConfiguration, edit{`samplingRate: "1"`, `samplingRate: "10"`}, "not a number from 0 to 1"},
		{"configuration: OTLP protocol name", checkConfiguration, goodConfiguration, edit{"protocol: http", "protocol: http/protobuf"}, "is not http or grpc"},
		{"configuration: endpoint with scheme", checkConfiguration, goodConfiguration, edit{"endpointAddress: jaeger", "endpointAddress: http://jaeger"}, "without a scheme or path"},
		{"configuration: endpoint with path", checkConfiguration, goodConfiguration, edit{":4318", ":4318/v1/traces"}, "without a scheme or path"},
		{"configuration: endpoint without port", checkConfiguration, goodConfiguration, edit{":4318", ""}, "has no port"},
		{"configuration: no endpoint", checkConfiguration, goodConfiguration, edit{"      endpointAddress: jaeger.default.svc.cluster.local:4318\n", ""}, "exports nothing"},
		{"configuration: another kind", checkConfiguration, goodConfiguration, edit{"kind: Configuration", "kind: Configurations"}, "is not a Dapr Component, Subscription, Resiliency or Configuration"},
		{"dapr: config names no Configuration", checkKsvcConfig, goodKsvcTraced, edit{"dapr.io/config: tracing", "dapr.io/config: tracng"}, `dapr.io/config "tracng" names no Configuration`},
		{"jaeger: OTLP on localhost", checkJaeger, goodJaeger, edit{"endpoint: 0.0.0.0:4318", "endpoint: localhost:4318"}, "bind 0.0.0.0"},
		{"jaeger: no OTLP/HTTP", checkJaeger, goodJaeger, edit{"endpoint: 0.0.0.0:4318", "endpoint: 0.0.0.0:4319"}, "nothing listens for OTLP/HTTP on 4318"},
		{"jaeger: query reads another store", checkJaeger, goodJaeger, edit{"          traces: memory_store", "          traces: other_store"}, `"other_store" is not a jaeger_storage backend`},
		{"jaeger: unbounded memory", checkJaeger, goodJaeger, edit{"max_traces: 5000", "max_traces: 0"}, "max_traces > 0"},
		{"jaeger: default config", checkJaeger, goodJaeger, edit{"            - --config\n            - /etc/jaeger/config.yaml\n", ""}, "not given --config"},
		{"jaeger: config not mounted", checkJaeger, goodJaeger, edit{"- /etc/jaeger/config.yaml", "- /etc/jaeger.yaml"}, "not a key of ConfigMap"},
		{"jaeger: Service to no listener", checkJaeger, goodJaeger, edit{"      targetPort: query", "      targetPort: 16687"}, "nothing listens there"},
		{"jaeger: probe off the health check", checkJaeger, goodJaeger, edit{"              path: /status\n              port: health\n            periodSeconds: 5", "              path: /\n              port: query\n            periodSeconds: 5"}, "not the health check"},
		{"jaeger: health check not started", checkJaeger, goodJaeger, edit{"extensions: [jaeger_storage, jaeger_query, healthcheckv2]", "extensions: [jaeger_storage, jaeger_query]"}, "not in service.extensions"},
		{"jaeger: no container", checkJaeger, goodJaeger, edit{"      containers:\n        - name: jaeger\n", "      containers: []\n      initContainers:\n        - name: jaeger\n"}, "want one container"},
		{"jaeger: unlabelled", checkJaeger, goodJaeger, edit{"kind: Service\nmetadata:\n  name: jaeger\n  labels:\n    app: jaeger\n    funcd.dev/tracing: jaeger\n", "kind: Service\nmetadata:\n  name: jaeger\n  labels:\n    app: jaeger\n"}, "label funcd.dev/tracing: jaeger is missing"},
		// kind.
		{"kind: misspelled field", checkKind, goodKind, edit{"role:", "rol:"}, `unknown field "rol"`},
		{"kind: image by tag only", checkKind, goodKind, edit{"@sha256:a1ed56cfb0e7b93589bdf97c8cd566405a265939e3620fc4f5de89adff580ae5", ""}, "not pinned by digest"},
	}
	// The good manifests pass.
	for _, g := range []struct {
		name  string
		check func([]byte) error
		doc   string
	}{
		{"ksvc", checkKsvc, goodKsvc}, {"scaledobject", checkScaledObject, goodScaledObject},
		{"deployment", checkKEDADeployment, goodDeployment}, {"component", checkComponent, goodComponent},
		{"component consumer names", checkConsumerNames, goodComponent},
		{"subscription", checkSubscription, goodSubscription}, {"subscription v1alpha1", checkSubscription, goodSubscriptionV1},
		{"resiliency", checkResiliency, goodResiliency}, {"kind", checkKind, goodKind},
		{"configuration", checkConfiguration, goodConfiguration}, {"ksvc naming a configuration", checkKsvcConfig, goodKsvcTraced},
		{"jaeger", checkJaeger, goodJaeger},
	} {
		if err := g.check([]byte(g.doc)); err != nil {
			t.Fatalf("good %s is rejected: %v", g.name, err)
		}
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.check(tt.edit.apply(t, tt.good))
			if err == nil {
				t.Fatal("accepted")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error does not mention %q:\n%v", tt.want, err)
			}
		})
	}
}

func TestRedisImage(t *testing.T) {
	for image, ok := range map[string]bool{
		"docker.io/library/redis:7.4.2":        true,
		"redis:8.0":                            true,
		"redis:7":                              true,
		"redis:6.2.14":                         false,
		"redis":                                false,
		"localhost:5001/redis:7.2@sha256:abcd": true,
		"redis:latest":                         false,
	} {
		if err := RedisImage(image); (err == nil) != ok {
			t.Errorf("RedisImage(%q) = %v, want ok %v", image, err, ok)
		}
	}
}
