package validate

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"knative.dev/serving/pkg/apis/autoscaling"
	servingv1 "knative.dev/serving/pkg/apis/serving/v1"
	"sigs.k8s.io/yaml"
)

// FuncYAML mirrors the parts of a func.yaml (knative func v0.44.0,
// pkg/functions: Function, RunSpec, DeploySpec, Options) that `func deploy`
// writes into a Knative Service.
type FuncYAML struct {
	Name    string `json:"name"`
	Runtime string `json:"runtime"`
	Run     struct {
		Envs    []FuncEnv    `json:"envs"`
		Volumes []FuncVolume `json:"volumes"`
	} `json:"run"`
	Deploy struct {
		Annotations map[string]string `json:"annotations"`
		Labels      []FuncLabel       `json:"labels"`
		Options     struct {
			Scale *struct {
				Min         *int64   `json:"min"`
				Max         *int64   `json:"max"`
				Metric      *string  `json:"metric"`
				Target      *float64 `json:"target"`
				Utilization *float64 `json:"utilization"`
			} `json:"scale"`
			Resources *struct {
				Requests *struct {
					CPU    *string `json:"cpu"`
					Memory *string `json:"memory"`
				} `json:"requests"`
				Limits *struct {
					CPU         *string `json:"cpu"`
					Memory      *string `json:"memory"`
					Concurrency *int64  `json:"concurrency"`
				} `json:"limits"`
			} `json:"resources"`
		} `json:"options"`
	} `json:"deploy"`
}

// FuncEnv is a run.envs entry; func deploy also reads secrets and
// ConfigMaps through "{{ ... }}" values, which the manifests here do not use.
type FuncEnv struct {
	Name  *string `json:"name"`
	Value *string `json:"value"`
}

// FuncVolume is a run.volumes entry.
type FuncVolume struct {
	Secret    *string `json:"secret"`
	ConfigMap *string `json:"configMap"`
	Path      *string `json:"path"`
}

// FuncLabel is a deploy.labels entry.
type FuncLabel struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// ParseFuncYAML reads a func.yaml.
func ParseFuncYAML(data []byte) (FuncYAML, error) {
	var f FuncYAML
	if err := yaml.Unmarshal(data, &f); err != nil {
		return f, fmt.Errorf("decode func.yaml: %w", err)
	}
	return f, nil
}

// Deployed is what a Knative Service says about the settings func.yaml can
// hold, in one shape for both sides of the comparison.
type Deployed struct {
	// Labels of the Service; TemplateLabels of its revision template.
	Labels, TemplateLabels map[string]string
	// Annotations of the revision template.
	Annotations map[string]string
	// Env is the user container's plain environment.
	Env map[string]string
	// Volumes maps mount paths to "configMap <name>" or "secret <name>".
	Volumes map[string]string
	// Resources holds "requests.cpu", "limits.memory", ... and
	// "containerConcurrency".
	Resources map[string]string
}

// func v0.44.0's constants (pkg/k8s/labels, pkg/knative/labels.go).
const (
	funcDaprMetricsPort = "9092"
	funcDaprAPILogging  = "true"
)

// funcDefaultLabels are the labels func deploy adds to every function
// (Function.LabelsMap), with the function's name and runtime filled in.
func funcDefaultLabels(f FuncYAML) map[string]string {
	return map[string]string{
		"function.knative.dev":         "true",
		"function.knative.dev/name":    f.Name,
		"function.knative.dev/runtime": f.Runtime,
		"boson.dev/function":           "true",
		"boson.dev/runtime":            f.Runtime,
	}
}

// FuncDeploy is what `func deploy` v0.44.0 writes for f
// (pkg/knative/deployer.go: generateNewService and updateService):
//   - labels: func's defaults, then deploy.labels, on the Service and on the
//     revision template;
//   - annotations: daprAnnotations(name) (dapr.io/enabled "true", app-id,
//     app-port "8080", metrics-port "9092", enable-api-logging "true"),
//     then deploy.annotations, on the Service and the revision template;
//     then setServiceOptions adds deploy.options.scale to the template as
//     min-scale, max-scale, metric, target and target-utilization-percentage;
//   - env: BUILT (a timestamp), run.envs, ADDRESS=0.0.0.0 unless set;
//   - volumes: run.volumes, named config-map-<name> / secret-<name>;
//   - resources and containerConcurrency from deploy.options.resources.
func FuncDeploy(f FuncYAML) Deployed {
	d := Deployed{Labels: funcDefaultLabels(f), Annotations: map[string]string{
		"dapr.io/enabled": "true", "dapr.io/app-id": f.Name, "dapr.io/app-port": "8080",
		"dapr.io/metrics-port": funcDaprMetricsPort, "dapr.io/enable-api-logging": funcDaprAPILogging,
	}, Env: map[string]string{"BUILT": "<timestamp>"}, Volumes: map[string]string{}, Resources: map[string]string{}}
	for _, l := range f.Deploy.Labels {
		d.Labels[l.Key] = l.Value
	}
	d.TemplateLabels = maps.Clone(d.Labels)
	maps.Copy(d.Annotations, f.Deploy.Annotations)
	if s := f.Deploy.Options.Scale; s != nil {
		setInt := func(key string, v *int64) {
			if v != nil {
				d.Annotations[key] = strconv.FormatInt(*v, 10)
			}
		}
		setFloat := func(key string, v *float64) {
			if v != nil {
				d.Annotations[key] = fmt.Sprintf("%f", *v)
			}
		}
		setInt(autoscaling.MinScaleAnnotationKey, s.Min)
		setInt(autoscaling.MaxScaleAnnotationKey, s.Max)
		if s.Metric != nil {
			d.Annotations[autoscaling.MetricAnnotationKey] = *s.Metric
		}
		setFloat(autoscaling.TargetAnnotationKey, s.Target)
		setFloat(autoscaling.TargetUtilizationPercentageKey, s.Utilization)
	}
	for _, e := range f.Run.Envs {
		if e.Name != nil && e.Value != nil {
			d.Env[*e.Name] = *e.Value
		}
	}
	if _, ok := d.Env["ADDRESS"]; !ok {
		d.Env["ADDRESS"] = "0.0.0.0"
	}
	for _, v := range f.Run.Volumes {
		switch {
		case v.Path == nil:
		case v.ConfigMap != nil:
			d.Volumes[*v.Path] = "configMap " + *v.ConfigMap
		case v.Secret != nil:
			d.Volumes[*v.Path] = "secret " + *v.Secret
		}
	}
	if r := f.Deploy.Options.Resources; r != nil {
		put := func(key string, v *string) {
			if v != nil {
				d.Resources[key] = *v
			}
		}
		if r.Requests != nil {
			put("requests.cpu", r.Requests.CPU)
			put("requests.memory", r.Requests.Memory)
		}
		if r.Limits != nil {
			put("limits.cpu", r.Limits.CPU)
			put("limits.memory", r.Limits.Memory)
			if c := r.Limits.Concurrency; c != nil && *c != 0 {
				d.Resources["containerConcurrency"] = strconv.FormatInt(*c, 10)
			}
		}
	}
	return d
}

// ManifestDeployed reads the same settings from a Knative Service.
func ManifestDeployed(svc *servingv1.Service) Deployed {
	tmpl := svc.Spec.Template
	d := Deployed{Labels: maps.Clone(svc.Labels), TemplateLabels: maps.Clone(tmpl.Labels),
		Annotations: maps.Clone(tmpl.Annotations), Env: map[string]string{}, Volumes: map[string]string{}, Resources: map[string]string{}}
	if len(tmpl.Spec.Containers) == 0 {
		return d
	}
	c := tmpl.Spec.Containers[0]
	for _, e := range c.Env {
		if e.ValueFrom == nil {
			d.Env[e.Name] = e.Value
		}
	}
	for _, m := range c.VolumeMounts {
		i := slices.IndexFunc(tmpl.Spec.Volumes, func(v corev1.Volume) bool { return v.Name == m.Name })
		switch {
		case i < 0:
		case tmpl.Spec.Volumes[i].ConfigMap != nil:
			d.Volumes[m.MountPath] = "configMap " + tmpl.Spec.Volumes[i].ConfigMap.Name
		case tmpl.Spec.Volumes[i].Secret != nil:
			d.Volumes[m.MountPath] = "secret " + tmpl.Spec.Volumes[i].Secret.SecretName
		default:
			d.Volumes[m.MountPath] = "other volume " + m.Name
		}
	}
	for kind, list := range map[string]corev1.ResourceList{"requests": c.Resources.Requests, "limits": c.Resources.Limits} {
		for name, q := range list {
			d.Resources[kind+"."+string(name)] = q.String()
		}
	}
	// 0, Knative's default, means no limit: the same as unset.
	if cc := tmpl.Spec.ContainerConcurrency; cc != nil && *cc != 0 {
		d.Resources["containerConcurrency"] = strconv.FormatInt(*cc, 10)
	}
	return d
}

// KnownDifference is a setting one side has that func deploy v0.44.0
// cannot express, or always adds; Why says which.
type KnownDifference struct {
	What, Why string
}

// KnownDifferences lists every difference CompareFuncYAML accepts between
// what func deploy writes and a manifest, and why each one exists.
var KnownDifferences = []KnownDifference{
	{"env BUILT (func deploy only)", "func deploy sets it to the deploy's timestamp, so every deploy is a new revision (processEnvs)"},
	{"env ADDRESS (func deploy only) and LISTEN_ADDRESS (manifest only)", "func deploy adds ADDRESS=0.0.0.0, func-go's deprecated listen variable (withOpenAddress); the manifests set LISTEN_ADDRESS, which func-go prefers; in run.envs it would also reach funcd up's local runs, whose addresses the runner picks"},
	{"labels function.knative.dev, boson.dev/function, boson.dev/runtime (func deploy only)", "func deploy's own labels (Function.LabelsMap) for func list; kubectl-applied Services need not carry them"},
	{"annotations autoscaling.knative.dev/* other than min-scale, max-scale, metric, target, target-utilization-percentage (manifest only)", "func deploy writes deploy.annotations onto the Service's metadata as well as the revision template, and Knative rejects autoscaling annotations on a Service (serving ValidateHasNoAutoscalingAnnotation): only deploy.options.scale reaches these keys"},
	{"annotation funcd.dev/resources-checksum (manifest only)", "setup.sh fills in the checksum of the binding's resources ConfigMap, so a changed Subscription rolls out a new revision; func deploy makes a new revision on every deploy anyway (BUILT)"},
	{"dapr.io/* annotations besides dapr.io/enabled when it is \"false\" (func deploy only)", "func deploy adds app-id, app-port, metrics-port and enable-api-logging to every Service (daprAnnotations); with the sidecar off the injector reads none of them"},
	{"volume names, readOnly mounts, probes, securityContext, timeoutSeconds (not compared)", "func names volumes config-map-<name> / secret-<name> and cannot set readOnly (ConfigMap and Secret volumes are read-only anyway), timeoutSeconds, or probes and a security context other than its defaults"},
}

// funcScaleKeys are the autoscaling annotations deploy.options.scale sets.
var funcScaleKeys = []string{
	autoscaling.MinScaleAnnotationKey, autoscaling.MaxScaleAnnotationKey, autoscaling.MetricAnnotationKey,
	autoscaling.TargetAnnotationKey, autoscaling.TargetUtilizationPercentageKey,
}

// CompareFuncYAML compares, in both directions, what func deploy writes for
// f with the manifest: every label, annotation, scale bound, env variable,
// volume and resource setting one side has, the other must have with the
// same value, except for the KnownDifferences.
func CompareFuncYAML(f FuncYAML, svc *servingv1.Service) []error {
	fn, man := FuncDeploy(f), ManifestDeployed(svc)
	var errs []error
	diff := func(what string, fromFunc, fromManifest map[string]string, skip func(k string) bool, equal func(k, a, b string) bool) {
		for _, k := range slices.Sorted(maps.Keys(union(fromFunc, fromManifest))) {
			if skip(k) {
				continue
			}
			a, inFunc := fromFunc[k]
			b, inManifest := fromManifest[k]
			switch {
			case !inManifest:
				errs = append(errs, fmt.Errorf("%s %s=%q: func deploy writes it (func.yaml), the manifest does not", what, k, a))
			case !inFunc:
				errs = append(errs, fmt.Errorf("%s %s=%q: the manifest sets it, func.yaml does not (func deploy would drop it)", what, k, b))
			case !equal(k, a, b):
				errs = append(errs, fmt.Errorf("%s %s: func.yaml gives %q, the manifest %q", what, k, a, b))
			}
		}
	}
	same := func(_, a, b string) bool { return a == b }
	funcLabel := func(k string) bool {
		_, def := funcDefaultLabels(f)[k]
		return def && k != "function.knative.dev/name" && k != "function.knative.dev/runtime"
	}
	optionalFuncLabel := func(labels map[string]string) func(string) bool {
		return func(k string) bool { return funcLabel(k) && labels[k] == "" }
	}
	diff("label", fn.Labels, man.Labels, optionalFuncLabel(man.Labels), same)
	diff("revision template label", fn.TemplateLabels, man.TemplateLabels, optionalFuncLabel(man.TemplateLabels), same)

	daprOff := fn.Annotations["dapr.io/enabled"] == "false" && man.Annotations["dapr.io/enabled"] == "false"
	diff("annotation", fn.Annotations, man.Annotations, func(k string) bool {
		switch {
		case k == "funcd.dev/resources-checksum":
			return true
		case strings.HasPrefix(k, autoscaling.GroupName+"/") && !slices.Contains(funcScaleKeys, k):
			_, inFunc := f.Deploy.Annotations[k]
			return !inFunc // in func.yaml it is an error Knative would report
		case daprOff && strings.HasPrefix(k, "dapr.io/") && k != "dapr.io/enabled":
			_, inManifest := man.Annotations[k]
			_, inFuncYAML := f.Deploy.Annotations[k]
			return !inManifest && !inFuncYAML
		}
		return false
	}, func(k, a, b string) bool {
		if k == autoscaling.TargetAnnotationKey || k == autoscaling.TargetUtilizationPercentageKey {
			x, errA := strconv.ParseFloat(a, 64)
			y, errB := strconv.ParseFloat(b, 64)
			return errA == nil && errB == nil && x == y
		}
		return a == b
	})
	for k := range f.Deploy.Annotations {
		if strings.HasPrefix(k, autoscaling.GroupName+"/") {
			errs = append(errs, fmt.Errorf("deploy.annotations %s: func deploy also puts deploy.annotations on the Service, where Knative rejects autoscaling annotations; use deploy.options.scale, or leave it to the manifest", k))
		}
	}
	diff("env", fn.Env, man.Env, func(k string) bool { return k == "BUILT" || k == "ADDRESS" || k == "LISTEN_ADDRESS" }, same)
	diff("volume at", fn.Volumes, man.Volumes, func(string) bool { return false }, same)
	diff("resources", fn.Resources, man.Resources, func(string) bool { return false }, same)
	return errs
}

func union(a, b map[string]string) map[string]string {
	m := maps.Clone(a)
	if m == nil {
		m = map[string]string{}
	}
	for k, v := range b {
		if _, ok := m[k]; !ok {
			m[k] = v
		}
	}
	return m
}
