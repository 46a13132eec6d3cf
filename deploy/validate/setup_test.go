package validate

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// setup.sh cannot reach a cluster here, but its own logic can run: these
// tests put stand-ins for docker, kind, kubectl, helm, func and curl first on
// PATH. The stand-ins log their arguments (and whatever manifest they are
// handed) and answer like a healthy cluster; `func build` records an image
// that `curl` then finds in the "registry". The real tar, sed, find and
// sha256sum do the staging, hashing and manifest rewriting.

// stubs are the stand-in commands. $STUB_LOG collects one line per call;
// $STUB_DIR/applied collects every manifest kubectl is given;
// $STUB_DIR/registry/<name>/<tag> are the pushed images.
var stubs = map[string]string{
	"docker": `#!/usr/bin/env bash
echo "docker $*" >>"$STUB_LOG"
case "$1 $2" in
"inspect -f") [[ $3 == *State.Running* ]] && echo true || echo '{}' ;;
"exec "*) [[ $* == *" cp /dev/stdin "* ]] && cat >/dev/null ;;
esac
exit 0
`,
	"kind": `#!/usr/bin/env bash
echo "kind $*" >>"$STUB_LOG"
case "$1 $2" in
"version ") echo "kind v0.33.0 go1.26.8 linux/amd64" ;;
"get clusters") [[ -f $STUB_DIR/cluster ]] && echo funcd ;;
"get nodes") echo funcd-control-plane ;;
"create cluster") touch "$STUB_DIR/cluster" ;;
esac
exit 0
`,
	"kubectl": `#!/usr/bin/env bash
echo "kubectl $*" >>"$STUB_LOG"
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
	if [[ ${args[i]} == -f && ${args[i + 1]} != http* ]]; then
		{ echo "# kubectl apply -f ${args[i + 1]}"; cat "${args[i + 1]}"; echo; } >>"$STUB_DIR/applied"
	fi
	if [[ ${args[i]} == --from-file=* ]]; then
		# kubectl create configmap --from-file=DIR: a ConfigMap with a key per file.
		dir=${args[i]#--from-file=}
		echo "kind: ConfigMap"
		echo "data:"
		for f in "$dir"/*; do echo "  $(basename "$f"): |"; sed 's/^/    /' "$f"; done
	fi
done
if [[ $* == "version --client" ]]; then echo "Client Version: v1.37.0"; fi
# Knative's config-observability remembers whether setup.sh set tracing there.
if [[ $* == *"patch configmap/config-observability"* ]]; then
	if [[ $* == *'"funcd.dev/tracing":"setup.sh"'* ]]; then touch "$STUB_DIR/observability-traced"; else rm -f "$STUB_DIR/observability-traced"; fi
fi
if [[ $* == *"get configmap/config-observability"*"funcd\.dev/tracing"* && -f $STUB_DIR/observability-traced ]]; then echo setup.sh; fi
exit 0
`,
	"helm": `#!/usr/bin/env bash
echo "helm $*" >>"$STUB_LOG"
exit 0
`,
	"func": `#!/usr/bin/env bash
echo "func $* (in $PWD; $(head -n1 go.mod))" >>"$STUB_LOG"
if [[ $1 == version ]]; then echo v0.44.0; exit 0; fi
[[ $FUNC_ENABLE_HOST_BUILDER == true && $GOFLAGS == -mod=mod ]] || { echo "func: host builder not enabled" >&2; exit 1; }
[[ -f func.yaml ]] || { echo "func: no func.yaml in $PWD" >&2; exit 1; }
if [[ $1 == deploy ]]; then
	# What func deploy reads: the staged func.yaml, kept by function name.
	mkdir -p "$STUB_DIR/deployed"
	cp func.yaml "$STUB_DIR/deployed/$(awk '$1 == "name:" { print $2; exit }' func.yaml).yaml"
fi
while [[ $# -gt 0 ]]; do
	if [[ $1 == --image ]]; then
		ref=${2#localhost:5001/funcd/}
		mkdir -p "$STUB_DIR/registry/${ref%%:*}"
		touch "$STUB_DIR/registry/${ref%%:*}/${ref#*:}"
	fi
	shift
done
exit 0
`,
	"curl": `#!/usr/bin/env bash
echo "curl $*" >>"$STUB_LOG"
url=${*: -1}
if [[ $url =~ /v2/funcd/([^/]+)/manifests/(.+)$ ]]; then
	[[ -f $STUB_DIR/registry/${BASH_REMATCH[1]}/${BASH_REMATCH[2]} ]] && exit 0
	exit 22
fi
exit 0
`,
}

// stubbedSetup runs setup.sh with the stand-ins and extra environment, in
// the stub directory dir (reused across runs to keep "cluster" state), and
// returns its output, the command log and the manifests applied.
func stubbedSetup(t *testing.T, dir string, env ...string) (out, log, applied string) {
	t.Helper()
	bin := filepath.Join(dir, "bin")
	if err := os.MkdirAll(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, script := range stubs {
		if err := os.WriteFile(filepath.Join(bin, name), []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []string{"log", "applied"} {
		os.Remove(filepath.Join(dir, f))
	}
	setup, err := filepath.Abs(filepath.Join(deployDir, "setup.sh"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("bash", setup)
	cmd.Dir = t.TempDir() // setup.sh must not depend on the working directory
	cmd.Env = append(os.Environ(),
		"PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"),
		"STUB_DIR="+dir, "STUB_LOG="+filepath.Join(dir, "log"), "TMPDIR="+t.TempDir(),
		"FUNC=", "SUBSCRIBER=", "PUBSUB=", "SKIP_BUILD=", "IMAGE_TAG=", "CLUSTER_NAME=", "DEPLOY_WITH=",
		"TRACING=", "TRACING_ENDPOINT=", "TRACING_SAMPLING_RATE=", "JAEGER_IMAGE=",
	)
	cmd.Env = append(cmd.Env, env...)
	b, err := cmd.CombinedOutput()
	logData, _ := os.ReadFile(filepath.Join(dir, "log"))
	appliedData, _ := os.ReadFile(filepath.Join(dir, "applied"))
	if err != nil {
		t.Fatalf("setup.sh %v: %v\n%s\ncommands:\n%s", env, err, b, logData)
	}
	return string(b), string(logData), string(appliedData)
}

var builtTag = regexp.MustCompile(`localhost:5001/funcd/([a-z-]+):(src-[0-9a-f]{12})`)

func TestSetupScriptFlow(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("no bash")
	}
	dir := t.TempDir()
	out, log, applied := stubbedSetup(t, dir)

	// Order of the big steps.
	var last int
	for _, want := range []string{
		"docker inspect -f {{.State.Running}} kind-registry",
		"kind create cluster --name funcd --config",
		"serving-crds.yaml", "serving-core.yaml", "kourier.yaml",
		"helm upgrade --install dapr dapr/dapr --version 1.16.0",
		"brokers/redis.yaml",
		"create configmap funcd-binding-resources",
		"func build --builder=host --image localhost:5001/funcd/checkout:src-",
		"apply -n default -f /dev/fd/", // the manifests, images rewritten
		"wait ksvc/checkout ksvc/order-processor ksvc/funcd-binding",
	} {
		i := strings.Index(log[last:], want)
		if i < 0 {
			t.Fatalf("setup.sh did not run %q after the previous step; commands:\n%s", want, log)
		}
		last += i
	}
	// The binding is built from a copy whose module path is "function".
	if !regexp.MustCompile(`func build \S+ --image localhost:5001/funcd/funcd-binding:src-\S+ .*module function\)`).MatchString(log) {
		t.Errorf("the binding was not built from a copy with module path function:\n%s", log)
	}
	if strings.Contains(log, "dapr/subscription.yaml") {
		t.Error("binding variant: the Subscription must reach the binding through its ConfigMap only, not kubectl apply")
	}
	// Every function manifest was applied with its built tag, never :latest.
	if strings.Contains(applied, ":latest") {
		t.Errorf("a manifest was applied with a :latest image:\n%s", applied)
	}
	tags := map[string]string{}
	for _, m := range builtTag.FindAllStringSubmatch(applied, -1) {
		tags[m[1]] = m[2]
	}
	for _, fn := range []string{"checkout", "order-processor", "funcd-binding"} {
		if tags[fn] == "" {
			t.Errorf("%s was not deployed with a built tag", fn)
		}
	}
	if !regexp.MustCompile(`funcd.dev/resources-checksum: "[0-9a-f]{16}"`).MatchString(applied) {
		t.Error("the binding's resources checksum was not filled in")
	}
	for _, f := range []string{"pubsub.yaml", "resiliency.yaml", "subscription.yaml"} {
		if !strings.Contains(applied, "  "+f+": |") {
			t.Errorf("the binding's ConfigMap lacks %s", f)
		}
	}
	if !strings.Contains(out, "curl -i http://checkout.default.127.0.0.1.sslip.io/") {
		t.Errorf("setup.sh does not print how to reach checkout:\n%s", out)
	}

	// A second run finds the cluster and the images: nothing is created or
	// rebuilt, and the same tags are deployed.
	_, log2, applied2 := stubbedSetup(t, dir)
	for _, unwanted := range []string{"kind create cluster", "func build", "docker run"} {
		if strings.Contains(log2, unwanted) {
			t.Errorf("second run ran %q", unwanted)
		}
	}
	for fn, tag := range tags {
		if !strings.Contains(applied2, "localhost:5001/funcd/"+fn+":"+tag) {
			t.Errorf("second run deployed %s with another tag than %s", fn, tag)
		}
	}

	// The KEDA variant, on the same "cluster".
	_, log3, applied3 := stubbedSetup(t, dir, "SUBSCRIBER=keda")
	for _, want := range []string{
		"keda-2.21.0.yaml", "keda/pubsub.yaml", "dapr/subscription.yaml", "keda/scaledobject.yaml",
		"delete ksvc funcd-binding order-processor",
	} {
		if !strings.Contains(log3, want) {
			t.Errorf("KEDA variant did not run %q:\n%s", want, log3)
		}
	}
	if !strings.Contains(applied3, "kind: Deployment\nmetadata:\n  name: order-processor") {
		t.Error("KEDA variant did not apply the order-processor Deployment")
	}
	if strings.Contains(log3, "funcd-binding:src-") || !strings.Contains(applied3, "localhost:5001/funcd/order-processor:src-") {
		t.Error("KEDA variant: want order-processor deployed with its built tag and no binding image")
	}

	// The Kafka swap puts the Kafka Component in the binding's ConfigMap.
	_, log4, applied4 := stubbedSetup(t, dir, "PUBSUB=kafka")
	if !strings.Contains(log4, "brokers/kafka.yaml") || !strings.Contains(applied4, "    type: pubsub.kafka") {
		t.Errorf("PUBSUB=kafka did not install Kafka or did not put the Kafka Component in the ConfigMap:\n%s", log4)
	}
}

// TestSetupScriptRefuses: settings that cannot work stop setup.sh before it
// touches anything.
func TestSetupScriptRefuses(t *testing.T) {
	for _, env := range [][]string{
		{"SUBSCRIBER=keda", "PUBSUB=kafka"},
		{"SUBSCRIBER=both"},
		{"PUBSUB=nats"},
		{"SKIP_BUILD=1"},
		{"TRACING=zipkin"},
		{"TRACING=jaeger", "TRACING_ENDPOINT=http://otel:4318"},
		{"TRACING_ENDPOINT=otel-collector:4318"},        // no scheme
		{"TRACING_ENDPOINT=http://otel-collector"},      // no port
		{"TRACING_ENDPOINT=http://otel:4318/v1/traces"}, // a path: the SDKs add /v1/traces
		{"TRACING=jaeger", "TRACING_SAMPLING_RATE=10%"}, // not 0..1
		{"TRACING=jaeger", "TRACING_SAMPLING_RATE=1.5"},
	} {
		setup, _ := filepath.Abs(filepath.Join(deployDir, "setup.sh"))
		cmd := exec.Command("bash", setup)
		cmd.Env = append(os.Environ(), "PATH=/nonexistent-stubs:"+os.Getenv("PATH"), "IMAGE_TAG=", "SUBSCRIBER=", "PUBSUB=", "SKIP_BUILD=",
			"TRACING=", "TRACING_ENDPOINT=", "TRACING_SAMPLING_RATE=", "JAEGER_IMAGE=")
		cmd.Env = append(cmd.Env, env...)
		out, err := cmd.CombinedOutput()
		if err == nil || !strings.HasPrefix(string(out), "setup: ") {
			t.Errorf("setup.sh with %v: want an immediate refusal, got %v:\n%s", env, err, out)
		}
	}
}
