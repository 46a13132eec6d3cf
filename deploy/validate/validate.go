// Package validate checks the cluster manifests in deploy/ with the code of
// the systems that will read them, since no cluster runs here:
//
//   - Knative Services: knative.dev/serving v0.50.0 (Knative v1.23) types,
//     strict decoding, SetDefaults and Validate, as the Serving webhook does;
//   - dapr.io/* annotations: against Dapr 1.16's sidecar injector
//     (pkg/injector/patcher.SidecarConfig: every known key and its type),
//     stricter than the injector, which logs and ignores a bad value;
//   - Dapr Components, Subscriptions, Resiliency: strict decoding into Dapr
//     1.16's own API types, daprd's duration and retry decoding, and each
//     Component's metadata names against the metadata.yaml its
//     components-contrib release ships (dapr.go);
//   - the KEDA ScaledObject: KEDA v2.21.0 types, its trigger checks and its
//     typed-config parser on the redis-streams trigger's metadata;
//   - the kind cluster config: kind v0.33.0 v1alpha4 types.
//
// The checks are functions so the tests can run them on the files in deploy/
// and on broken inline manifests, which they must reject.
package validate

import (
	"context"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"maps"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/dapr/dapr/pkg/injector/patcher"
	kedav1alpha1 "github.com/kedacore/keda/v2/apis/keda/v1alpha1"
	"github.com/kedacore/keda/v2/pkg/scalers/scalersconfig"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	k8svalidation "k8s.io/apimachinery/pkg/util/validation"
	"knative.dev/pkg/apis"
	"knative.dev/pkg/observability/runtime"
	"knative.dev/serving/pkg/apis/autoscaling"
	servingv1 "knative.dev/serving/pkg/apis/serving/v1"
	"knative.dev/serving/pkg/networking"
	kindv1alpha4 "sigs.k8s.io/kind/pkg/apis/config/v1alpha4"
	"sigs.k8s.io/yaml"
)

// docSeparator splits multi-document YAML, as runtime/resources does.
var docSeparator = regexp.MustCompile(`(?m)^---[ \t]*(#.*)?\r?$`)

// Docs returns the documents of a YAML file, without empty or comment-only
// ones.
func Docs(data []byte) [][]byte {
	var out [][]byte
	for _, d := range docSeparator.Split(string(data), -1) {
		content := false
		for line := range strings.Lines(d) {
			if t := strings.TrimSpace(line); t != "" && !strings.HasPrefix(t, "#") {
				content = true
				break
			}
		}
		if content {
			out = append(out, []byte(d))
		}
	}
	return out
}

// TypeMeta reads a document's apiVersion, kind and metadata.name.
func TypeMeta(doc []byte) (apiVersion, kind, name string, err error) {
	var h struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
		Metadata   struct {
			Name string `json:"name"`
		} `json:"metadata"`
	}
	if err := yaml.Unmarshal(doc, &h); err != nil {
		return "", "", "", err
	}
	return h.APIVersion, h.Kind, h.Metadata.Name, nil
}

// ---------------------------------------------------------------------------
// Knative Services

// KnativeService decodes one Knative Service strictly (an unknown or
// misspelled field is an error), applies Knative's defaults and validation
// (error level: warnings, such as securityContext advice, pass), and checks
// the annotations Knative and Dapr read on the revision template.
func KnativeService(ctx context.Context, doc []byte) (*servingv1.Service, error) {
	var svc servingv1.Service
	if err := yaml.UnmarshalStrict(doc, &svc); err != nil {
		return nil, fmt.Errorf("decode Knative Service: %w", err)
	}
	if svc.APIVersion != "serving.knative.dev/v1" || svc.Kind != "Service" {
		return nil, fmt.Errorf("not a Knative Service: apiVersion %q, kind %q", svc.APIVersion, svc.Kind)
	}
	var errs []error
	// Autoscaling annotations count only on the revision template.
	for k := range svc.Annotations {
		if strings.HasPrefix(k, autoscaling.GroupName+"/") {
			errs = append(errs, fmt.Errorf("%s on the Service's metadata has no effect: put it on spec.template.metadata.annotations", k))
		}
	}
	svc.SetDefaults(ctx)
	if ferr := svc.Validate(apis.WithinCreate(ctx)).Filter(apis.ErrorLevel); ferr != nil {
		errs = append(errs, fmt.Errorf("Knative validation: %w", ferr))
	}
	tmpl := svc.Spec.Template
	for k := range tmpl.Annotations {
		if strings.HasPrefix(k, autoscaling.GroupName+"/") && !knownAutoscalingKeys[k] {
			errs = append(errs, fmt.Errorf("unknown annotation %s (Knative reads %s)", k, strings.Join(slices.Sorted(maps.Keys(knownAutoscalingKeys)), ", ")))
		}
	}
	if len(tmpl.Spec.Containers) > 0 {
		errs = append(errs, DaprAnnotations(tmpl.Annotations, DaprPod{Knative: true, AppPorts: containerPorts(tmpl.Spec.Containers[0], 8080)})...)
	}
	return &svc, errors.Join(errs...)
}

// knownAutoscalingKeys are the canonical autoscaling.knative.dev/ keys of
// knative.dev/serving v0.50.0 (legacy spellings such as minScale are
// reported: use the canonical one).
var knownAutoscalingKeys = map[string]bool{
	autoscaling.ClassAnnotationKey:                    true,
	autoscaling.MinScaleAnnotationKey:                 true,
	autoscaling.MaxScaleAnnotationKey:                 true,
	autoscaling.InitialScaleAnnotationKey:             true,
	autoscaling.ScaleDownDelayAnnotationKey:           true,
	autoscaling.MetricAnnotationKey:                   true,
	autoscaling.TargetAnnotationKey:                   true,
	autoscaling.ScaleToZeroPodRetentionPeriodKey:      true,
	autoscaling.MetricAggregationAlgorithmKey:         true,
	autoscaling.WindowAnnotationKey:                   true,
	autoscaling.TargetUtilizationPercentageKey:        true,
	autoscaling.TargetBurstCapacityKey:                true,
	autoscaling.PanicWindowPercentageAnnotationKey:    true,
	autoscaling.PanicThresholdPercentageAnnotationKey: true,
	autoscaling.ActivationScaleKey:                    true,
}

// containerPorts lists a container's ports, or def when it declares none
// (Knative's default user port is 8080).
func containerPorts(c corev1.Container, def int32) []int32 {
	if len(c.Ports) == 0 {
		return []int32{def}
	}
	var ports []int32
	for _, p := range c.Ports {
		ports = append(ports, p.ContainerPort)
	}
	return ports
}

// ---------------------------------------------------------------------------
// Dapr annotations

// DaprPod describes the pod a set of dapr.io annotations lands on.
type DaprPod struct {
	// Knative: the pod also runs Knative's queue-proxy.
	Knative bool
	// AppPorts are the application container's ports.
	AppPorts []int32
}

// daprKeys maps every annotation Dapr 1.16's injector reads to its Go kind,
// from the injector's own SidecarConfig struct tags.
var daprKeys = func() map[string]reflect.Kind {
	m := map[string]reflect.Kind{}
	t := reflect.TypeFor[patcher.SidecarConfig]()
	for i := range t.NumField() {
		f := t.Field(i)
		key := f.Tag.Get("annotation")
		if key == "" {
			continue
		}
		ft := f.Type
		if ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		m[key] = ft.Kind()
	}
	return m
}()

// Ports daprd itself listens on in the pod (injector defaults), and its
// default metrics port.
const (
	daprHTTPPort           = 3500
	daprPublicPort         = 3501
	daprGRPCPort           = 50001
	daprInternalGRPCPort   = 50002
	daprDefaultMetricsPort = 9090
)

// knativeReservedPorts are the ports queue-proxy (and the profiler) hold in
// every Knative pod (knative.dev/serving pkg/apis/serving k8s_validation.go
// reservedPorts).
var knativeReservedPorts = []int32{
	networking.BackendHTTPPort, networking.BackendHTTP2Port, networking.QueueAdminPort,
	networking.AutoscalingQueueMetricsPort, networking.UserQueueMetricsPort, runtime.ProfilingDefaultPort,
}

// DaprAnnotations checks the dapr.io/ annotations of a pod template: every
// key must be one the injector knows, every value must parse as the
// injector reads it (the injector itself logs and ignores a bad value, so a
// typo silently changes behaviour), and the combination must work in pod.
func DaprAnnotations(anns map[string]string, pod DaprPod) []error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	for _, k := range slices.Sorted(maps.Keys(anns)) {
		if !strings.HasPrefix(k, "dapr.io/") {
			continue
		}
		v := anns[k]
		kind, ok := daprKeys[k]
		if !ok {
			bad("unknown annotation %s: Dapr 1.16's sidecar injector does not read it", k)
			continue
		}
		switch kind {
		case reflect.Bool:
			if v != "true" && v != "false" {
				bad("%s: %q is not \"true\" or \"false\" (the injector would read it as false)", k, v)
			}
		case reflect.Int, reflect.Int32, reflect.Int64:
			if _, err := strconv.ParseInt(v, 10, 32); err != nil {
				bad("%s: %q is not an integer (the injector would ignore it)", k, v)
			}
		}
	}
	if len(errs) > 0 || anns["dapr.io/enabled"] != "true" {
		return errs
	}

	// Values with a narrower meaning than their Go type.
	appID := anns["dapr.io/app-id"]
	switch {
	case appID == "":
		// Without it daprd takes the owner's name: for Knative that is the
		// revision's deployment, a new app id (and consumer group) per revision.
		bad("dapr.io/app-id is required when dapr.io/enabled is \"true\"")
	case len(k8svalidation.IsDNS1123Label(appID)) > 0:
		bad("dapr.io/app-id %q: %s", appID, strings.Join(k8svalidation.IsDNS1123Label(appID), "; "))
	}
	port := func(key string, def int) int {
		v, ok := anns[key]
		if !ok {
			return def
		}
		n, _ := strconv.Atoi(v)
		if n < 1 || n > 65535 {
			bad("%s: %q is not a port (1-65535)", key, v)
		}
		return n
	}
	appPort := port("dapr.io/app-port", 0)
	metricsPort := port("dapr.io/metrics-port", daprDefaultMetricsPort)
	if appPort != 0 && !slices.Contains(pod.AppPorts, int32(appPort)) {
		bad("dapr.io/app-port %d is not a port of the app container %v", appPort, pod.AppPorts)
	}
	daprPorts := []int{daprHTTPPort, daprPublicPort, daprGRPCPort, daprInternalGRPCPort}
	if slices.Contains(daprPorts, appPort) {
		bad("dapr.io/app-port %d is one of daprd's own ports %v", appPort, daprPorts)
	}
	if pod.Knative && slices.Contains(knativeReservedPorts, int32(metricsPort)) {
		bad("dapr.io/metrics-port %d (9090 when unset) is taken by queue-proxy in a Knative pod (reserved: %v); set another, e.g. \"9092\" as func deploy does",
			metricsPort, knativeReservedPorts)
	}
	if metricsPort == appPort {
		bad("dapr.io/metrics-port and dapr.io/app-port are both %d", appPort)
	}
	if p, ok := anns["dapr.io/app-protocol"]; ok && !slices.Contains([]string{"http", "grpc", "https", "grpcs", "h2c"}, p) {
		bad("dapr.io/app-protocol %q is not http, grpc, https, grpcs or h2c", p)
	}
	if l, ok := anns["dapr.io/log-level"]; ok && !slices.Contains([]string{"debug", "info", "warn", "error", "fatal"}, l) {
		bad("dapr.io/log-level %q is not debug, info, warn, error or fatal", l)
	}
	if d, ok := anns["dapr.io/block-shutdown-duration"]; ok {
		if _, err := time.ParseDuration(d); err != nil {
			bad("dapr.io/block-shutdown-duration %q is not a duration such as 30s", d)
		}
	}
	for _, k := range []string{"dapr.io/sidecar-cpu-request", "dapr.io/sidecar-cpu-limit", "dapr.io/sidecar-memory-request", "dapr.io/sidecar-memory-limit"} {
		if q, ok := anns[k]; ok {
			if _, err := resource.ParseQuantity(q); err != nil {
				bad("%s %q is not a quantity", k, q)
			}
		}
	}
	for _, k := range []string{"dapr.io/app-health-probe-interval", "dapr.io/app-health-probe-timeout", "dapr.io/app-health-threshold"} {
		if v, ok := anns[k]; ok {
			if n, _ := strconv.Atoi(v); n < 1 {
				bad("%s %q must be at least 1", k, v)
			}
		}
	}

	// App health checks.
	health := anns["dapr.io/enable-app-health-check"] == "true"
	for _, k := range []string{"dapr.io/app-health-check-path", "dapr.io/app-health-probe-interval", "dapr.io/app-health-probe-timeout", "dapr.io/app-health-threshold"} {
		if _, ok := anns[k]; ok && !health {
			bad("%s has no effect without dapr.io/enable-app-health-check: \"true\"", k)
		}
	}
	if health {
		if appPort == 0 {
			bad("dapr.io/enable-app-health-check needs dapr.io/app-port: daprd probes the app there")
		}
		path, ok := anns["dapr.io/app-health-check-path"]
		switch {
		case !ok:
			// Dapr's default /healthz is not served by func-go: GET answers 405.
			bad("dapr.io/enable-app-health-check without dapr.io/app-health-check-path probes /healthz, which func-go answers with 405: set /health/readiness")
		case !strings.HasPrefix(path, "/"):
			bad("dapr.io/app-health-check-path %q must start with /", path)
		}
	}
	return errs
}

// ---------------------------------------------------------------------------
// KEDA

// RedisStreamsMetadata mirrors redisStreamsMetadata of KEDA v2.21.0
// (pkg/scalers/redis_streams_scaler.go, with redisConnectionInfo from
// redis_scaler.go): the same fields and `keda` tags, so KEDA's own typed
// config parser reads a trigger's metadata exactly as the scaler would.
type RedisStreamsMetadata struct {
	triggerIndex int

	TargetPendingEntriesCount int64               `keda:"name=pendingEntriesCount, order=triggerMetadata, default=5"`
	TargetStreamLength        int64               `keda:"name=streamLength,        order=triggerMetadata, default=5"`
	TargetLag                 int64               `keda:"name=lagCount,            order=triggerMetadata, optional"`
	StreamName                string              `keda:"name=stream,              order=triggerMetadata"`
	ConsumerGroupName         string              `keda:"name=consumerGroup,       order=triggerMetadata, optional"`
	DatabaseIndex             int                 `keda:"name=databaseIndex,       order=triggerMetadata, optional"`
	ConnectionInfo            redisConnectionInfo `keda:"optional"`
	ActivationLagCount        int64               `keda:"name=activationLagCount,  order=triggerMetadata, default=0"`
	MetadataEnableTLS         string              `keda:"name=enableTLS,           order=triggerMetadata, optional"`
	AuthParamEnableTLS        string              `keda:"name=tls,                 order=authParams, optional"`
}

type redisConnectionInfo struct {
	Addresses        []string `keda:"name=address;addresses, order=triggerMetadata;authParams;resolvedEnv"`
	Username         string   `keda:"name=username,          order=triggerMetadata;resolvedEnv;authParams"`
	Password         string   `keda:"name=password,          order=triggerMetadata;resolvedEnv;authParams"`
	SentinelUsername string   `keda:"name=sentinelUsername,  order=triggerMetadata;authParams;resolvedEnv"`
	SentinelPassword string   `keda:"name=sentinelPassword,  order=triggerMetadata;authParams;resolvedEnv"`
	SentinelMaster   string   `keda:"name=sentinelMaster,    order=triggerMetadata;authParams;resolvedEnv"`
	Hosts            []string `keda:"name=host;hosts,        order=triggerMetadata;resolvedEnv;authParams"`
	Ports            []string `keda:"name=port;ports,        order=triggerMetadata;resolvedEnv;authParams"`
	EnableTLS        bool
	UnsafeSsl        bool   `keda:"name=unsafeSsl,   order=triggerMetadata, default=false"`
	Cert             string `keda:"name=Cert;cert,   order=authParams"`
	Key              string `keda:"name=key,         order=authParams"`
	KeyPassword      string `keda:"name=keyPassword, order=authParams"`
	Ca               string `keda:"name=ca,          order=authParams"`
}

// kedaTriggerMetadataNames lists the trigger metadata names (and their
// "FromEnv" forms) the mirror structs accept.
func kedaTriggerMetadataNames(t reflect.Type) []string {
	var names []string
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("keda")
		if f.Type.Kind() == reflect.Struct && tag == "optional" {
			names = append(names, kedaTriggerMetadataNames(f.Type)...)
			continue
		}
		var name []string
		triggerMetadata := false
		for part := range strings.SplitSeq(tag, ",") {
			k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
			switch k {
			case "name":
				name = strings.Split(v, ";")
			case "order":
				triggerMetadata = slices.Contains(strings.Split(v, ";"), "triggerMetadata")
			}
		}
		if triggerMetadata {
			for _, n := range name {
				names = append(names, n, n+"FromEnv")
			}
		}
	}
	return names
}

// ScaledObject decodes a KEDA ScaledObject strictly, runs KEDA's trigger
// and replica-bound checks, and parses its single redis-streams trigger with
// KEDA's typed config parser. It insists on the lagCount mode: the only
// redis-streams mode that wakes a Deployment from zero.
func ScaledObject(doc []byte) (*kedav1alpha1.ScaledObject, *RedisStreamsMetadata, error) {
	var so kedav1alpha1.ScaledObject
	if err := yaml.UnmarshalStrict(doc, &so); err != nil {
		return nil, nil, fmt.Errorf("decode ScaledObject: %w", err)
	}
	if so.APIVersion != "keda.sh/v1alpha1" || so.Kind != "ScaledObject" {
		return nil, nil, fmt.Errorf("not a KEDA ScaledObject: apiVersion %q, kind %q", so.APIVersion, so.Kind)
	}
	var errs []error
	if err := kedav1alpha1.ValidateTriggers(so.Spec.Triggers); err != nil {
		errs = append(errs, err)
	}
	if err := kedav1alpha1.CheckReplicaCountBoundsAreValid(&so); err != nil {
		errs = append(errs, err)
	}
	if so.Spec.ScaleTargetRef == nil || so.Spec.ScaleTargetRef.Name == "" {
		errs = append(errs, errors.New("spec.scaleTargetRef.name is required"))
	}
	if so.Spec.MinReplicaCount == nil || *so.Spec.MinReplicaCount != 0 {
		errs = append(errs, errors.New("spec.minReplicaCount must be 0: the point is scaling to zero"))
	}
	if len(so.Spec.Triggers) != 1 || so.Spec.Triggers[0].Type != "redis-streams" {
		errs = append(errs, errors.New("want exactly one trigger, of type redis-streams"))
		return &so, nil, errors.Join(errs...)
	}
	tr := so.Spec.Triggers[0]
	known := kedaTriggerMetadataNames(reflect.TypeFor[RedisStreamsMetadata]())
	for _, k := range slices.Sorted(maps.Keys(tr.Metadata)) {
		if !slices.Contains(known, k) {
			errs = append(errs, fmt.Errorf("redis-streams trigger: unknown metadata %q (KEDA v2.21.0 reads %s)", k, strings.Join(known, ", ")))
		}
	}
	meta := &RedisStreamsMetadata{}
	cfg := &scalersconfig.ScalerConfig{
		ScalableObjectName: so.Name, ScalableObjectType: "ScaledObject", TriggerType: tr.Type,
		TriggerMetadata: tr.Metadata, AuthParams: map[string]string{}, ResolvedEnv: map[string]string{},
	}
	if err := cfg.TypedConfig(meta); err != nil {
		errs = append(errs, fmt.Errorf("redis-streams trigger: %w", err))
		return &so, meta, errors.Join(errs...)
	}
	// What the scaler's Validate then requires (redis_streams_scaler.go).
	ci := meta.ConnectionInfo
	switch {
	case len(ci.Hosts) != len(ci.Ports):
		errs = append(errs, errors.New("redis-streams trigger: host and port lists differ in length"))
	case len(ci.Addresses) == 0 && len(ci.Hosts) == 0:
		errs = append(errs, errors.New("redis-streams trigger: address (or host and port) is required"))
	}
	if meta.ConsumerGroupName == "" || meta.TargetLag <= 0 {
		errs = append(errs, errors.New("redis-streams trigger: consumerGroup and lagCount > 0 are required: only the lag mode (Redis 7+) scales from zero; pendingEntriesCount stays 0 while no consumer runs"))
	}
	if meta.ActivationLagCount < 0 {
		errs = append(errs, errors.New("redis-streams trigger: activationLagCount must not be negative"))
	}
	return &so, meta, errors.Join(errs...)
}

// Deployment decodes a Deployment strictly.
func Deployment(doc []byte) (*appsv1.Deployment, error) {
	var d appsv1.Deployment
	if err := yaml.UnmarshalStrict(doc, &d); err != nil {
		return nil, fmt.Errorf("decode Deployment: %w", err)
	}
	if d.APIVersion != "apps/v1" || d.Kind != "Deployment" {
		return nil, fmt.Errorf("not a Deployment: apiVersion %q, kind %q", d.APIVersion, d.Kind)
	}
	var errs []error
	if d.Spec.Selector == nil || len(d.Spec.Selector.MatchLabels) == 0 {
		errs = append(errs, errors.New("spec.selector.matchLabels is required"))
	} else {
		for k, v := range d.Spec.Selector.MatchLabels {
			if d.Spec.Template.Labels[k] != v {
				errs = append(errs, fmt.Errorf("selector %s=%s does not match the pod template's labels", k, v))
			}
		}
	}
	if len(d.Spec.Template.Spec.Containers) == 0 {
		errs = append(errs, errors.New("no containers"))
	}
	for _, c := range d.Spec.Template.Spec.Containers {
		if c.Image == "" {
			errs = append(errs, fmt.Errorf("container %s: image is required", c.Name))
		}
		for _, p := range []*corev1.Probe{c.ReadinessProbe, c.LivenessProbe} {
			if p != nil && p.HTTPGet != nil && p.HTTPGet.Port.IntValue() == 0 && !slices.ContainsFunc(c.Ports, func(cp corev1.ContainerPort) bool { return cp.Name == p.HTTPGet.Port.String() }) {
				errs = append(errs, fmt.Errorf("container %s: probe port %s is not a container port", c.Name, p.HTTPGet.Port.String()))
			}
		}
	}
	return &d, errors.Join(errs...)
}

// KEDADeployment checks the Deployment a ScaledObject scales: KEDA owns its
// replica count, and its Dapr annotations must be valid.
func KEDADeployment(doc []byte) (*appsv1.Deployment, error) {
	d, err := Deployment(doc)
	if d == nil {
		return nil, err
	}
	errs := []error{err}
	if d.Spec.Replicas != nil {
		errs = append(errs, errors.New("spec.replicas is set: KEDA owns the replica count, and every kubectl apply would reset it"))
	}
	if c := d.Spec.Template.Spec.Containers; len(c) > 0 {
		errs = append(errs, DaprAnnotations(d.Spec.Template.Annotations, DaprPod{AppPorts: containerPorts(c[0], 0)})...)
	}
	return d, errors.Join(errs...)
}

// RedisImage requires Redis 7 or later: KEDA's lagCount reads XINFO GROUPS
// lag, which Redis 7 added.
func RedisImage(image string) error {
	_, tag, ok := strings.Cut(image[strings.LastIndex(image, "/")+1:], ":")
	if !ok {
		return fmt.Errorf("redis image %q has no version tag", image)
	}
	tag, _, _ = strings.Cut(tag, "@")
	major, err := strconv.Atoi(strings.SplitN(tag, ".", 2)[0])
	if err != nil || major < 7 {
		return fmt.Errorf("redis image %q: Redis 7 or later is required (KEDA lagCount uses XINFO GROUPS lag)", image)
	}
	return nil
}

// ---------------------------------------------------------------------------
// kind

// KindCluster decodes a kind cluster config strictly and checks that the
// node image is pinned by digest.
func KindCluster(doc []byte) (*kindv1alpha4.Cluster, error) {
	var c kindv1alpha4.Cluster
	if err := yaml.UnmarshalStrict(doc, &c); err != nil {
		return nil, fmt.Errorf("decode kind Cluster: %w", err)
	}
	if c.APIVersion != "kind.x-k8s.io/v1alpha4" || c.Kind != "Cluster" {
		return nil, fmt.Errorf("not a kind Cluster: apiVersion %q, kind %q", c.APIVersion, c.Kind)
	}
	var errs []error
	if len(c.Nodes) == 0 {
		errs = append(errs, errors.New("no nodes"))
	}
	for i, n := range c.Nodes {
		if !strings.Contains(n.Image, "@sha256:") {
			errs = append(errs, fmt.Errorf("nodes[%d].image %q is not pinned by digest", i, n.Image))
		}
		for _, m := range n.ExtraPortMappings {
			if m.ContainerPort < 1 || m.ContainerPort > 65535 || m.HostPort < 0 || m.HostPort > 65535 {
				errs = append(errs, fmt.Errorf("nodes[%d]: port mapping %d -> %d is out of range", i, m.HostPort, m.ContainerPort))
			}
		}
	}
	return &c, errors.Join(errs...)
}

// ---------------------------------------------------------------------------
// The binding's configuration

// EnvNames reads the environment variable names a Config struct in a Go
// source file declares with `envconfig:"NAME"` tags, and the value of the
// string constant prefixConst (the per-function URL prefix), without
// compiling the package.
func EnvNames(file, typeName, prefixConst string) (names []string, prefix string, err error) {
	f, err := parser.ParseFile(token.NewFileSet(), file, nil, parser.SkipObjectResolution)
	if err != nil {
		return nil, "", err
	}
	ast.Inspect(f, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.TypeSpec:
			st, ok := n.Type.(*ast.StructType)
			if !ok || n.Name.Name != typeName {
				return true
			}
			for _, fld := range st.Fields.List {
				if fld.Tag == nil {
					continue
				}
				tag, _ := strconv.Unquote(fld.Tag.Value)
				if name := reflect.StructTag(tag).Get("envconfig"); name != "" {
					names = append(names, name)
				}
			}
		case *ast.ValueSpec:
			for i, id := range n.Names {
				if id.Name == prefixConst && i < len(n.Values) {
					if lit, ok := n.Values[i].(*ast.BasicLit); ok {
						prefix, _ = strconv.Unquote(lit.Value)
					}
				}
			}
		}
		return true
	})
	if len(names) == 0 {
		return nil, "", fmt.Errorf("%s: no struct %s with envconfig tags", file, typeName)
	}
	if prefix == "" {
		return nil, "", fmt.Errorf("%s: no string constant %s", file, prefixConst)
	}
	return names, prefix, nil
}

// FunctionEnvName is the FUNCTION_URL_<NAME> spelling of a function name.
func FunctionEnvName(prefix, function string) string {
	return prefix + strings.ToUpper(strings.ReplaceAll(function, "-", "_"))
}
