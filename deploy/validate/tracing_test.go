package validate

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// tracingConfigs decodes deploy/tracing/configuration.yaml.
func tracingConfigs(t *testing.T) []Configuration {
	t.Helper()
	set := dapr(t, filepath.Join(deployDir, "tracing", "configuration.yaml"))
	if len(set.Components)+len(set.Subscriptions)+len(set.Resiliencies) > 0 || len(set.Configurations) != 1 {
		t.Fatalf("deploy/tracing/configuration.yaml: want exactly one Configuration, got %+v", set)
	}
	return set.Configurations
}

// setupVar is the value setup.sh gives NAME (NAME=value at the start of a
// line).
func setupVar(t *testing.T, name string) string {
	t.Helper()
	m := regexp.MustCompile(`(?m)^` + name + `=(\S+)$`).FindStringSubmatch(string(read(t, filepath.Join(deployDir, "setup.sh"))))
	if m == nil {
		t.Fatalf("setup.sh does not set %s", name)
	}
	return m[1]
}

// TestTracing: deploy/tracing's Dapr Configuration decodes strictly into
// Dapr 1.16's type and is one daprd can export with; its name is the one
// setup.sh puts into dapr.io/config; by default it points at the Jaeger of
// deploy/tracing/jaeger.yaml, whose objects fit together (CheckJaeger) and
// run the pinned Jaeger.
func TestTracing(t *testing.T) {
	cfgs := tracingConfigs(t)
	c := cfgs[0]
	if err := CheckConfiguration(c); err != nil {
		t.Error(err)
	}
	if want := setupVar(t, "TRACING_CONFIG"); c.Name != want {
		t.Errorf("the Configuration is %q, setup.sh's dapr.io/config names %q", c.Name, want)
	}
	if c.Labels[TracingLabel] != "configuration" {
		t.Errorf("the Configuration lacks the label %s: configuration (setup.sh removes it by it)", TracingLabel)
	}
	if tr := c.Spec.TracingSpec; tr == nil || tr.Otel == nil || tr.Otel.Protocol != "http" {
		t.Fatal("the Configuration must trace over OTLP/HTTP (tracing.otel.protocol: http), as the SDKs in the functions do")
	}
	for _, key := range []string{"endpointAddress", "isSecure", "samplingRate"} {
		// setup.sh rewrites these lines (tracing_configuration).
		if !regexp.MustCompile(`(?m)^\s+` + key + `:`).Match(read(t, filepath.Join(deployDir, "tracing", "configuration.yaml"))) {
			t.Errorf("configuration.yaml has no %s: line for setup.sh to fill in", key)
		}
	}

	j, err := CheckJaeger(read(t, filepath.Join(deployDir, "tracing", "jaeger.yaml")))
	if err != nil {
		t.Fatal(err)
	}
	host, port, _ := net.SplitHostPort(c.Spec.TracingSpec.Otel.EndpointAddress)
	if want := j.Service.Name + ".default.svc.cluster.local"; host != want || port != strconv.Itoa(JaegerOTLPHTTPPort) {
		t.Errorf("the Configuration's default endpoint %s is not the Jaeger Service (%s:%d)", c.Spec.TracingSpec.Otel.EndpointAddress, want, JaegerOTLPHTTPPort)
	}
	setup := string(read(t, filepath.Join(deployDir, "setup.sh")))
	if want := "TRACING_ENDPOINT=http://" + j.Service.Name + ".${NS}.svc.cluster.local:" + strconv.Itoa(JaegerOTLPHTTPPort); !strings.Contains(setup, want) {
		t.Errorf("setup.sh does not point TRACING=jaeger at the Service (%s)", want)
	}
	if img, want := j.Deployment.Spec.Template.Spec.Containers[0].Image, "docker.io/jaegertracing/jaeger:"+setupVar(t, "JAEGER_VERSION"); img != want {
		t.Errorf("jaeger.yaml runs %s, setup.sh pins %s", img, want)
	}
	if !strings.Contains(string(read(t, filepath.Join(deployDir, "tracing", "jaeger.yaml"))), `funcd.dev/config-checksum: "unset"`) {
		t.Error(`jaeger.yaml has no funcd.dev/config-checksum: "unset" for setup.sh to fill in`)
	}
}

// TestDaprConfigRefs: a dapr.io/config anywhere in deploy/ or a func.yaml
// names the Configuration there is (none does until setup.sh turns tracing
// on; TestSetupScriptTracing checks what it applies).
func TestDaprConfigRefs(t *testing.T) {
	cfgs := tracingConfigs(t)
	for _, svc := range knativeServices(t) {
		if err := DaprConfigRef(svc.Spec.Template.Annotations, cfgs); err != nil {
			t.Errorf("ksvc %s: %v", svc.Name, err)
		}
	}
	d, err := KEDADeployment(oneDoc(t, filepath.Join(deployDir, "keda", "order-processor.yaml")))
	if err != nil {
		t.Fatal(err)
	}
	if err := DaprConfigRef(d.Spec.Template.Annotations, cfgs); err != nil {
		t.Errorf("keda/order-processor.yaml: %v", err)
	}
	for _, path := range append(glob(t, filepath.Join(repoDir, "functions", "*", "func.yaml")), filepath.Join(repoDir, "func.yaml")) {
		f, err := ParseFuncYAML(read(t, path))
		if err != nil {
			t.Fatal(err)
		}
		if err := DaprConfigRef(FuncDeploy(f).Annotations, cfgs); err != nil {
			t.Errorf("%s: %v", path, err)
		}
	}
}

// tracedEnv is what setup.sh gives each function and the binding when
// tracing is on.
func tracedEnv(endpoint, fn, rate string) map[string]string {
	return map[string]string{
		"OTEL_EXPORTER_OTLP_ENDPOINT": endpoint,
		"OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
		"OTEL_SERVICE_NAME":           fn,
		"OTEL_TRACES_SAMPLER":         "parentbased_traceidratio",
		"OTEL_TRACES_SAMPLER_ARG":     rate,
	}
}

// appliedDocs splits what the stand-in kubectl was given into documents,
// by kind.
func appliedDocs(t *testing.T, applied string) map[string][][]byte {
	t.Helper()
	out := map[string][][]byte{}
	var docs [][]byte
	for _, file := range strings.Split(applied, "# kubectl apply -f ")[1:] {
		_, file, _ = strings.Cut(file, "\n") // the file's name
		docs = append(docs, Docs([]byte(file))...)
	}
	for _, doc := range docs {
		apiVersion, kind, _, err := TypeMeta(doc)
		if err != nil || kind == "" {
			continue // kubectl's own ConfigMap output, comments
		}
		if strings.HasPrefix(apiVersion, "dapr.io/") {
			kind = "dapr " + kind
		}
		out[kind] = append(out[kind], doc)
	}
	return out
}

// checkTraced checks what one stubbed setup.sh run applied with tracing
// on: the Configuration (strictly decoded, exportable, at endpoint), every
// function manifest valid with dapr.io/config naming it where Dapr runs
// and the OTEL_* environment in each; for func deploy, the staged func.yaml
// files say the same.
func checkTraced(t *testing.T, stubDir, applied, hostport, secure, endpoint, rate string, funcDeployed ...string) {
	t.Helper()
	docs := appliedDocs(t, applied)
	var cfgs []Configuration
	for _, doc := range docs["dapr Configuration"] {
		set, err := DecodeDapr("applied", doc)
		if err != nil {
			t.Fatal(err)
		}
		cfgs = append(cfgs, set.Configurations...)
	}
	if len(cfgs) != 1 {
		t.Fatalf("want one Configuration applied, got %d", len(cfgs))
	}
	if err := CheckConfiguration(cfgs[0]); err != nil {
		t.Error(err)
	}
	o := cfgs[0].Spec.TracingSpec.Otel
	if o.EndpointAddress != hostport || strconv.FormatBool(o.IsSecure != nil && *o.IsSecure) != secure || cfgs[0].Spec.TracingSpec.SamplingRate != rate {
		t.Errorf("Configuration applied with otel %s secure %v, samplingRate %q; want %s, %s, %q",
			o.EndpointAddress, o.IsSecure, cfgs[0].Spec.TracingSpec.SamplingRate, hostport, secure, rate)
	}
	check := func(what string, anns, env map[string]string, fn string, daprOn bool) {
		t.Helper()
		if err := DaprConfigRef(anns, cfgs); err != nil {
			t.Errorf("%s: %v", what, err)
		}
		if got := anns["dapr.io/config"]; (got != "") != daprOn {
			t.Errorf("%s: dapr.io/config %q, want it exactly where daprd runs (dapr.io/enabled %q)", what, got, anns["dapr.io/enabled"])
		}
		for k, v := range tracedEnv(endpoint, fn, rate) {
			if env[k] != v {
				t.Errorf("%s: env %s=%q, want %q", what, k, env[k], v)
			}
		}
	}
	for _, doc := range docs["Service"] {
		if !strings.HasPrefix(string(doc), "apiVersion: serving.knative.dev/") {
			continue
		}
		svc, err := KnativeService(context.Background(), doc)
		if err != nil {
			t.Errorf("applied with tracing: %v", err)
			continue
		}
		check("ksvc "+svc.Name, svc.Spec.Template.Annotations, env(svc), svc.Name, annotation(svc, "dapr.io/enabled") == "true")
	}
	for _, doc := range docs["Deployment"] {
		if !strings.Contains(string(doc), "name: order-processor") {
			continue // Jaeger's, the broker's
		}
		d, err := KEDADeployment(doc)
		if err != nil {
			t.Errorf("applied with tracing: %v", err)
			continue
		}
		e := map[string]string{}
		for _, v := range d.Spec.Template.Spec.Containers[0].Env {
			e[v.Name] = v.Value
		}
		check("KEDA Deployment", d.Spec.Template.Annotations, e, "order-processor", true)
	}
	for _, fn := range funcDeployed {
		f, err := ParseFuncYAML(read(t, filepath.Join(stubDir, "deployed", fn+".yaml")))
		if err != nil {
			t.Fatal(err)
		}
		d := FuncDeploy(f)
		check("func deploy "+fn, d.Annotations, d.Env, fn, d.Annotations["dapr.io/enabled"] == "true")
	}
}

// TestSetupScriptTracing runs setup.sh with the stand-ins: TRACING=jaeger
// deploys Jaeger and points daprd (a Configuration the Dapr-enabled pods
// name), Knative (config-observability) and the functions (OTEL_*) at it,
// with the manifests and with func deploy; a run without tracing then
// removes exactly what the traced run set up; TRACING_ENDPOINT sends to a
// collector of one's own, at the sampling rate asked for.
func TestSetupScriptTracing(t *testing.T) {
	dir := t.TempDir()
	jaegerImage := "registry.example/jaeger:2.13.0"
	_, log, applied := stubbedSetup(t, dir, "TRACING=jaeger", "JAEGER_IMAGE="+jaegerImage)
	const endpoint = "http://jaeger.default.svc.cluster.local:4318"
	checkTraced(t, dir, applied, "jaeger.default.svc.cluster.local:4318", "false", endpoint, "1")
	for _, want := range []string{
		"rollout status -n default deployment/jaeger",
		`"tracing-protocol":"http/protobuf","tracing-endpoint":"` + endpoint + `/v1/traces","tracing-sampling-rate":"1"`,
		"rollout restart deployment/activator -n knative-serving", // it reads the settings when it starts
	} {
		if !strings.Contains(log, want) {
			t.Errorf("TRACING=jaeger: setup.sh did not run %q:\n%s", want, log)
		}
	}
	if i, j := strings.Index(log, "config-observability"), strings.Index(log, "wait ksvc/checkout"); i < 0 || j < i {
		t.Error("Knative's tracing settings must be set before the functions' revisions are made (queue-proxy reads them then)")
	}
	jaegerDocs := strings.Join(func() []string {
		var s []string
		for _, docs := range appliedDocs(t, applied) {
			for _, d := range docs {
				if strings.Contains(string(d), "funcd.dev/tracing: jaeger") {
					s = append(s, string(d))
				}
			}
		}
		return s
	}(), "---\n")
	jg, err := CheckJaeger([]byte(jaegerDocs))
	if err != nil {
		t.Fatalf("Jaeger as applied: %v", err)
	}
	if img := jg.Deployment.Spec.Template.Spec.Containers[0].Image; img != jaegerImage {
		t.Errorf("Jaeger applied with image %s, want JAEGER_IMAGE %s", img, jaegerImage)
	}
	if sum := jg.Deployment.Spec.Template.Annotations["funcd.dev/config-checksum"]; !regexp.MustCompile(`^[0-9a-f]{16}$`).MatchString(sum) {
		t.Errorf("Jaeger's config checksum was not filled in: %q", sum)
	}

	// The same run again without tracing: back to no tracing at all.
	_, log, applied = stubbedSetup(t, dir)
	if strings.Contains(applied, "dapr.io/config") || strings.Contains(applied, "OTEL_") || strings.Contains(applied, "jaeger") {
		t.Errorf("a run without tracing applied tracing settings:\n%s", applied)
	}
	for _, want := range []string{
		`"tracing-protocol":null`,
		"rollout restart deployment/activator -n knative-serving",
		"delete configuration.dapr.io,deployment,service,configmap -n default -l funcd.dev/tracing",
	} {
		if !strings.Contains(log, want) {
			t.Errorf("tracing off after on: setup.sh did not run %q:\n%s", want, log)
		}
	}
	if i, j := strings.Index(log, "-l funcd.dev/tracing"), strings.Index(log, "wait ksvc/checkout"); j < 0 || i < j {
		t.Error("the Configuration must go only after the functions run without naming it")
	}
	// ...and a third run, never traced since, changes nothing of it (it
	// only reads config-observability's mark).
	_, log, _ = stubbedSetup(t, dir)
	for _, line := range strings.Split(log, "\n") {
		if strings.Contains(line, "tracing") && !strings.HasPrefix(line, "kubectl --context kind-funcd get ") {
			t.Errorf("a run without tracing, on a cluster without it, ran %q", line)
		}
	}

	// A collector of one's own, TLS, 25 %, on a fresh "cluster".
	dir = t.TempDir()
	_, log, applied = stubbedSetup(t, dir, "TRACING_ENDPOINT=https://otel.example.com:4318/", "TRACING_SAMPLING_RATE=0.25")
	checkTraced(t, dir, applied, "otel.example.com:4318", "true", "https://otel.example.com:4318", "0.25")
	if strings.Contains(applied, "kind: Deployment\nmetadata:\n  name: jaeger") || !strings.Contains(log, "delete deployment,service,configmap -n default -l funcd.dev/tracing=jaeger") {
		t.Errorf("TRACING_ENDPOINT: Jaeger must not be deployed, and one an earlier run deployed removed:\n%s", log)
	}

	// func deploy, and the KEDA variant.
	dir = t.TempDir()
	_, _, applied = stubbedSetup(t, dir, "TRACING=jaeger", "DEPLOY_WITH=func")
	checkTraced(t, dir, applied, "jaeger.default.svc.cluster.local:4318", "false", endpoint, "1", "checkout", "order-processor", "funcd-binding")
	_, _, applied = stubbedSetup(t, dir, "TRACING=jaeger", "SUBSCRIBER=keda")
	if !strings.Contains(applied, "name: order-processor") {
		t.Fatal("KEDA variant: no order-processor Deployment applied")
	}
	checkTraced(t, dir, applied, "jaeger.default.svc.cluster.local:4318", "false", endpoint, "1")
}

// TestTracingFuncYAML: the staged func.yaml setup.sh edits for func deploy
// stays what func reads: every other setting unchanged.
func TestTracingFuncYAML(t *testing.T) {
	dir := t.TempDir()
	_, _, _ = stubbedSetup(t, dir, "TRACING=jaeger", "DEPLOY_WITH=func")
	for fn, path := range map[string]string{
		"checkout":        filepath.Join(repoDir, "functions", "checkout", "func.yaml"),
		"order-processor": filepath.Join(repoDir, "functions", "order-processor", "func.yaml"),
		"funcd-binding":   filepath.Join(repoDir, "func.yaml"),
	} {
		orig, err := ParseFuncYAML(read(t, path))
		if err != nil {
			t.Fatal(err)
		}
		staged, err := ParseFuncYAML(read(t, filepath.Join(dir, "deployed", fn+".yaml")))
		if err != nil {
			t.Fatal(err)
		}
		want, got := FuncDeploy(orig), FuncDeploy(staged)
		for k := range tracedEnv("", "", "") {
			delete(got.Env, k)
		}
		delete(got.Annotations, "dapr.io/config")
		if !reflect.DeepEqual(want, got) {
			t.Errorf("%s: the traced func.yaml differs beyond tracing:\n%+v\nwant\n%+v", fn, got, want)
		}
	}
	if _, err := os.Stat(filepath.Join(repoDir, "functions", "checkout", "func.yaml.tracing")); err == nil {
		t.Error("setup.sh wrote into the checkout")
	}
}
