package validate

import (
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"
)

// TracingLabel marks what setup.sh creates for tracing (the Dapr
// Configuration, Jaeger's objects): a run without tracing deletes by it.
const TracingLabel = "funcd.dev/tracing"

// Jaeger is deploy/tracing/jaeger.yaml: a ConfigMap holding Jaeger v2's
// configuration, the Deployment running it, the Service in front.
type Jaeger struct {
	ConfigMap  *corev1.ConfigMap
	Deployment *appsv1.Deployment
	Service    *corev1.Service
	// Config is the ConfigMap's config.yaml.
	Config JaegerConfig
}

// JaegerConfig is the part of a Jaeger v2 (OpenTelemetry Collector)
// configuration the checks read: the OTLP receiver's listeners, the query
// extension's, the health check's, the storage backends and which
// pipelines and extensions run.
type JaegerConfig struct {
	Service struct {
		Extensions []string `json:"extensions"`
		Pipelines  map[string]struct {
			Receivers []string `json:"receivers"`
			Exporters []string `json:"exporters"`
		} `json:"pipelines"`
	} `json:"service"`
	Extensions struct {
		HealthCheck *struct {
			HTTP struct {
				Endpoint string `json:"endpoint"`
			} `json:"http"`
		} `json:"healthcheckv2"`
		Storage struct {
			Backends map[string]struct {
				Memory *struct {
					MaxTraces int `json:"max_traces"`
				} `json:"memory"`
			} `json:"backends"`
		} `json:"jaeger_storage"`
		Query struct {
			Storage struct {
				Traces string `json:"traces"`
			} `json:"storage"`
			HTTP struct {
				Endpoint string `json:"endpoint"`
			} `json:"http"`
		} `json:"jaeger_query"`
	} `json:"extensions"`
	Receivers struct {
		OTLP struct {
			Protocols struct {
				GRPC *struct {
					Endpoint string `json:"endpoint"`
				} `json:"grpc"`
				HTTP *struct {
					Endpoint string `json:"endpoint"`
				} `json:"http"`
			} `json:"protocols"`
		} `json:"otlp"`
	} `json:"receivers"`
	Exporters struct {
		Storage struct {
			TraceStorage string `json:"trace_storage"`
		} `json:"jaeger_storage_exporter"`
	} `json:"exporters"`
}

// Ports Jaeger is reached on: OTLP over HTTP (where daprd, Knative, the
// binding and the functions export) and the query API and UI.
const (
	JaegerOTLPHTTPPort = 4318
	JaegerQueryPort    = 16686
)

// CheckJaeger decodes deploy/tracing/jaeger.yaml strictly and checks that
// its parts fit: every object carries the tracing label with value jaeger
// (what setup.sh deletes it by), the Deployment runs the ConfigMap's
// config.yaml, the Service's ports reach container ports that the
// configuration listens on, and those listeners take connections from other
// pods (Jaeger's all-in-one default binds localhost unless
// JAEGER_LISTEN_HOST says otherwise: nothing in the cluster could export).
func CheckJaeger(data []byte) (*Jaeger, error) {
	j := &Jaeger{}
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	for i, doc := range Docs(data) {
		_, kind, name, err := TypeMeta(doc)
		if err != nil {
			return nil, fmt.Errorf("document %d: %w", i+1, err)
		}
		var labels map[string]string
		switch kind {
		case "ConfigMap":
			var cm corev1.ConfigMap
			if err := yaml.UnmarshalStrict(doc, &cm); err != nil {
				return nil, fmt.Errorf("decode ConfigMap %s: %w", name, err)
			}
			j.ConfigMap, labels = &cm, cm.Labels
		case "Deployment":
			d, err := Deployment(doc)
			if d == nil {
				return nil, err
			}
			if err != nil {
				bad("%w", err)
			}
			j.Deployment, labels = d, d.Labels
		case "Service":
			var svc corev1.Service
			if err := yaml.UnmarshalStrict(doc, &svc); err != nil {
				return nil, fmt.Errorf("decode Service %s: %w", name, err)
			}
			j.Service, labels = &svc, svc.Labels
		default:
			return nil, fmt.Errorf("document %d: unexpected %s %s", i+1, kind, name)
		}
		if labels[TracingLabel] != "jaeger" {
			bad("%s %s: label %s: jaeger is missing (setup.sh removes Jaeger by it)", kind, name, TracingLabel)
		}
	}
	if j.ConfigMap == nil || j.Deployment == nil || j.Service == nil {
		return j, errors.New("want a ConfigMap, a Deployment and a Service")
	}

	// The configuration the container is started with.
	pod := j.Deployment.Spec.Template.Spec
	if len(pod.Containers) != 1 {
		return j, fmt.Errorf("Deployment %s: want one container, got %d", j.Deployment.Name, len(pod.Containers))
	}
	c := pod.Containers[0]
	i := slices.Index(c.Args, "--config")
	if i < 0 || i+1 >= len(c.Args) {
		return j, errors.New("the jaeger container is not given --config FILE (without it Jaeger runs its all-in-one default, bound to localhost)")
	}
	file, key := c.Args[i+1], ""
	for _, m := range c.VolumeMounts {
		dir := strings.TrimSuffix(m.MountPath, "/") + "/"
		if !strings.HasPrefix(file, dir) {
			continue
		}
		for _, v := range pod.Volumes {
			if v.Name == m.Name && v.ConfigMap != nil && v.ConfigMap.Name == j.ConfigMap.Name {
				key = strings.TrimPrefix(file, dir)
			}
		}
	}
	cfg, ok := j.ConfigMap.Data[key]
	if key == "" || !ok {
		return j, fmt.Errorf("--config %s is not a key of ConfigMap %s mounted in the container", file, j.ConfigMap.Name)
	}
	if err := yaml.Unmarshal([]byte(cfg), &j.Config); err != nil {
		return j, fmt.Errorf("ConfigMap %s: config: %w", j.ConfigMap.Name, err)
	}
	jc := j.Config

	// Listeners: reachable from other pods, on the ports the Service uses.
	listens := map[int]string{}
	listen := func(what, endpoint string) {
		host, port, err := net.SplitHostPort(endpoint)
		n, _ := strconv.Atoi(port)
		switch {
		case err != nil || n == 0:
			bad("%s endpoint %q is not host:port", what, endpoint)
		case host != "0.0.0.0" && host != "" && host != "::":
			bad("%s listens on %q: only that pod could reach it; bind 0.0.0.0", what, endpoint)
		default:
			listens[n] = what
		}
	}
	if p := jc.Receivers.OTLP.Protocols.HTTP; p != nil {
		listen("the OTLP/HTTP receiver", p.Endpoint)
	}
	if p := jc.Receivers.OTLP.Protocols.GRPC; p != nil {
		listen("the OTLP/gRPC receiver", p.Endpoint)
	}
	listen("jaeger_query", jc.Extensions.Query.HTTP.Endpoint)
	if h := jc.Extensions.HealthCheck; h != nil {
		listen("healthcheckv2", h.HTTP.Endpoint)
	}
	if listens[JaegerOTLPHTTPPort] == "" {
		bad("nothing listens for OTLP/HTTP on %d, where setup.sh points every exporter", JaegerOTLPHTTPPort)
	}
	if listens[JaegerQueryPort] == "" {
		bad("the query API is not on %d", JaegerQueryPort)
	}

	// What runs, and the storage every part names.
	for _, ext := range []string{"jaeger_storage", "jaeger_query"} {
		if !slices.Contains(jc.Service.Extensions, ext) {
			bad("service.extensions lacks %s", ext)
		}
	}
	if jc.Extensions.HealthCheck != nil && !slices.Contains(jc.Service.Extensions, "healthcheckv2") {
		bad("healthcheckv2 is configured but not in service.extensions: the probes would fail")
	}
	traces, ok := jc.Service.Pipelines["traces"]
	switch {
	case !ok:
		bad("no traces pipeline")
	case !slices.Contains(traces.Receivers, "otlp"):
		bad("the traces pipeline does not receive otlp")
	case !slices.Contains(traces.Exporters, "jaeger_storage_exporter"):
		bad("the traces pipeline does not export to jaeger_storage_exporter")
	}
	for what, backend := range map[string]string{
		"jaeger_query.storage.traces":           jc.Extensions.Query.Storage.Traces,
		"jaeger_storage_exporter.trace_storage": jc.Exporters.Storage.TraceStorage,
	} {
		b, ok := jc.Extensions.Storage.Backends[backend]
		switch {
		case !ok:
			bad("%s %q is not a jaeger_storage backend", what, backend)
		case b.Memory == nil || b.Memory.MaxTraces <= 0:
			bad("backend %q: want memory storage with max_traces > 0 (bounded)", backend)
		}
	}
	if jc.Extensions.Query.Storage.Traces != jc.Exporters.Storage.TraceStorage {
		bad("jaeger_query reads %q, the exporter writes %q: the query API would find nothing", jc.Extensions.Query.Storage.Traces, jc.Exporters.Storage.TraceStorage)
	}

	// The Service reaches container ports that are listened on, and the
	// probes ask the health check.
	cports := map[string]int32{}
	for _, p := range c.Ports {
		cports[p.Name] = p.ContainerPort
		if listens[int(p.ContainerPort)] == "" {
			bad("container port %s (%d): nothing in the configuration listens there", p.Name, p.ContainerPort)
		}
	}
	for k, v := range j.Service.Spec.Selector {
		if j.Deployment.Spec.Template.Labels[k] != v {
			bad("Service selector %s=%s does not select the Deployment's pods", k, v)
		}
	}
	svcPorts := map[int32]bool{}
	for _, p := range j.Service.Spec.Ports {
		svcPorts[p.Port] = true
		target := p.TargetPort.IntValue()
		if name := p.TargetPort.String(); target == 0 && name != "" {
			target = int(cports[name])
		}
		if target == 0 {
			target = int(p.Port)
		}
		if listens[target] == "" {
			bad("Service port %s (%d) targets %s: nothing listens there", p.Name, p.Port, p.TargetPort.String())
		}
	}
	for _, want := range []int32{JaegerOTLPHTTPPort, JaegerQueryPort} {
		if !svcPorts[want] {
			bad("Service %s has no port %d", j.Service.Name, want)
		}
	}
	if p := c.ReadinessProbe; p == nil || p.HTTPGet == nil {
		bad("the jaeger container has no HTTP readiness probe")
	} else if port := max(p.HTTPGet.Port.IntValue(), int(cports[p.HTTPGet.Port.String()])); listens[port] != "healthcheckv2" {
		bad("the readiness probe asks port %s, not the health check", p.HTTPGet.Port.String())
	}
	return j, errors.Join(errs...)
}
