package validate

import (
	"context"
	"strings"
	"testing"
)

// A func.yaml and the Knative Service func deploy makes of it, as a
// manifest would spell it: they compare equal. Each case edits one side.
const goodFuncYAML = `
specVersion: 0.36.0
name: fn
runtime: go
run:
  envs:
  - name: TOPIC
    value: orders
  volumes:
  - configMap: fn-config
    path: /etc/fn
deploy:
  labels:
  - key: networking.knative.dev/visibility
    value: cluster-local
  annotations:
    dapr.io/enable-api-logging: "false"
  options:
    scale:
      min: 0
      max: 3
      utilization: 70
    resources:
      limits:
        memory: 128Mi
        concurrency: 20
`

const goodFuncKsvc = `
apiVersion: serving.knative.dev/v1
kind: Service
metadata:
  name: fn
  labels:
    function.knative.dev/name: fn
    function.knative.dev/runtime: go
    networking.knative.dev/visibility: cluster-local
spec:
  template:
    metadata:
      labels:
        function.knative.dev/name: fn
        function.knative.dev/runtime: go
        networking.knative.dev/visibility: cluster-local
      annotations:
        autoscaling.knative.dev/min-scale: "0"
        autoscaling.knative.dev/max-scale: "3"
        autoscaling.knative.dev/target-utilization-percentage: "70"
        autoscaling.knative.dev/scale-to-zero-pod-retention-period: "30s"
        dapr.io/enabled: "true"
        dapr.io/app-id: fn
        dapr.io/app-port: "8080"
        dapr.io/metrics-port: "9092"
        dapr.io/enable-api-logging: "false"
    spec:
      containerConcurrency: 20
      containers:
        - image: localhost:5001/funcd/fn:latest
          ports:
            - containerPort: 8080
          env:
            - name: LISTEN_ADDRESS
              value: 0.0.0.0:8080
            - name: TOPIC
              value: orders
          resources:
            limits:
              memory: 128Mi
          volumeMounts:
            - name: config-map-fn-config
              mountPath: /etc/fn
      volumes:
        - name: config-map-fn-config
          configMap:
            name: fn-config
`

func TestCompareFuncYAML(t *testing.T) {
	tests := []struct {
		name     string
		funcEdit edit
		ksvcEdit edit
		want     string // in one of the errors; empty: equal
	}{
		{name: "equal"},
		{name: "label only in the manifest", funcEdit: edit{"  labels:\n  - key: networking.knative.dev/visibility\n    value: cluster-local\n", ""},
			want: "label networking.knative.dev/visibility=\"cluster-local\": the manifest sets it, func.yaml does not"},
		{name: "label only in func.yaml", ksvcEdit: edit{"    networking.knative.dev/visibility: cluster-local\nspec:", "spec:"},
			want: "label networking.knative.dev/visibility=\"cluster-local\": func deploy writes it"},
		{name: "max-scale only in the manifest", funcEdit: edit{"      max: 3\n", ""},
			want: "autoscaling.knative.dev/max-scale=\"3\": the manifest sets it"},
		{name: "max-scale differs", funcEdit: edit{"max: 3", "max: 4"}, want: "autoscaling.knative.dev/max-scale: func.yaml gives \"4\", the manifest \"3\""},
		{name: "utilization differs", ksvcEdit: edit{`target-utilization-percentage: "70"`, `target-utilization-percentage: "80"`},
			want: "target-utilization-percentage: func.yaml gives \"70.000000\", the manifest \"80\""},
		{name: "func's Dapr default missing from the manifest", ksvcEdit: edit{"        dapr.io/app-port: \"8080\"\n", ""},
			want: "annotation dapr.io/app-port=\"8080\": func deploy writes it"},
		{name: "annotation overridden in the manifest only", funcEdit: edit{"  annotations:\n    dapr.io/enable-api-logging: \"false\"\n", ""},
			want: "dapr.io/enable-api-logging: func.yaml gives \"true\", the manifest \"false\""},
		{name: "env only in the manifest", ksvcEdit: edit{"            - name: TOPIC", "            - name: NAMESPACE\n              value: default\n            - name: TOPIC"},
			want: "env NAMESPACE=\"default\": the manifest sets it"},
		{name: "env only in func.yaml", funcEdit: edit{"  envs:\n", "  envs:\n  - name: PUBSUB_NAME\n    value: orderpubsub\n"},
			want: "env PUBSUB_NAME=\"orderpubsub\": func deploy writes it"},
		{name: "another ConfigMap", funcEdit: edit{"configMap: fn-config", "configMap: fn-resources"},
			want: "volume at /etc/fn: func.yaml gives \"configMap fn-resources\", the manifest \"configMap fn-config\""},
		{name: "containerConcurrency only in the manifest", funcEdit: edit{"        concurrency: 20\n", ""},
			want: "resources containerConcurrency=\"20\": the manifest sets it"},
		{name: "autoscaling annotation in func.yaml", funcEdit: edit{"    dapr.io/enable-api-logging: \"false\"\n", "    dapr.io/enable-api-logging: \"false\"\n    autoscaling.knative.dev/scale-to-zero-pod-retention-period: 30s\n"},
			want: "Knative rejects autoscaling annotations"},
		{name: "sidecar off: func's other Dapr defaults are inert", funcEdit: edit{"    dapr.io/enable-api-logging: \"false\"\n", "    dapr.io/enabled: \"false\"\n"},
			ksvcEdit: edit{"        dapr.io/enabled: \"true\"\n        dapr.io/app-id: fn\n        dapr.io/app-port: \"8080\"\n        dapr.io/metrics-port: \"9092\"\n        dapr.io/enable-api-logging: \"false\"\n", "        dapr.io/enabled: \"false\"\n"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := ParseFuncYAML(tt.funcEdit.apply(t, goodFuncYAML))
			if err != nil {
				t.Fatal(err)
			}
			svc, err := KnativeService(context.Background(), tt.ksvcEdit.apply(t, goodFuncKsvc))
			if err != nil {
				t.Fatalf("test bug: the manifest is invalid: %v", err)
			}
			errs := CompareFuncYAML(f, svc)
			if tt.want == "" {
				for _, err := range errs {
					t.Errorf("got %v, want no difference", err)
				}
				return
			}
			var all []string
			for _, err := range errs {
				all = append(all, err.Error())
			}
			if !strings.Contains(strings.Join(all, "\n"), tt.want) {
				t.Errorf("got %q, want an error containing %q", all, tt.want)
			}
		})
	}
}

// TestKnownDifferencesSayWhy: every accepted difference is documented.
func TestKnownDifferencesSayWhy(t *testing.T) {
	for _, d := range KnownDifferences {
		if d.What == "" || d.Why == "" {
			t.Errorf("got %+v, want what and why", d)
		}
	}
}
