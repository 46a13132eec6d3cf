package validate

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/funcd/funcd/runtime/resources"
	servingv1 "knative.dev/serving/pkg/apis/serving/v1"
	"sigs.k8s.io/yaml"
)

// Paths, relative to this package.
const (
	deployDir = ".."
	repoDir   = "../.."
)

// bindingName is the root function (func.yaml name) and its Dapr app id.
const bindingName = "funcd-binding"

// imagePattern is what setup.sh's with_images rewrites to the built tag: an
// image that does not match would be deployed as :latest, silently.
var imagePattern = regexp.MustCompile(`^localhost:5001/funcd/([a-z0-9-]+):latest$`)

func read(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func glob(t *testing.T, pattern string) []string {
	t.Helper()
	files, err := filepath.Glob(pattern)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatalf("no files match %s", pattern)
	}
	return files
}

// oneDoc reads a single-document YAML file.
func oneDoc(t *testing.T, path string) []byte {
	t.Helper()
	docs := Docs(read(t, path))
	if len(docs) != 1 {
		t.Fatalf("%s: want 1 document, got %d", path, len(docs))
	}
	return docs[0]
}

// knativeServices checks every Knative Service in deploy/knative and
// returns them by name.
func knativeServices(t *testing.T) map[string]*servingv1.Service {
	t.Helper()
	out := map[string]*servingv1.Service{}
	for _, file := range glob(t, filepath.Join(deployDir, "knative", "*.yaml")) {
		for i, doc := range Docs(read(t, file)) {
			svc, err := KnativeService(context.Background(), doc)
			if err != nil {
				t.Errorf("%s: document %d: %v", file, i+1, err)
				continue
			}
			if _, dup := out[svc.Name]; dup {
				t.Errorf("%s: Knative Service %s is defined twice", file, svc.Name)
			}
			out[svc.Name] = svc
		}
	}
	return out
}

// dapr decodes Dapr resource files into Dapr 1.16's own types.
func dapr(t *testing.T, paths ...string) *DaprSet {
	t.Helper()
	set, err := LoadDapr(paths...)
	if err != nil {
		t.Fatal(err)
	}
	return set
}

func component(t *testing.T, path string) Component {
	t.Helper()
	set := dapr(t, path)
	if len(set.Components) != 1 {
		t.Fatalf("%s: want one Component, got %d", path, len(set.Components))
	}
	return set.Components[0]
}

// contribDir is the source of the components-contrib release the root
// module builds with, from the module cache (downloaded if missing): the
// metadata.yaml files there are what each component documents it reads.
func contribDir(t *testing.T) string {
	t.Helper()
	const mod = "github.com/dapr/components-contrib"
	m := regexp.MustCompile(`(?m)^\s*` + regexp.QuoteMeta(mod) + `\s+(v\S+)`).FindStringSubmatch(string(read(t, filepath.Join(repoDir, "go.mod"))))
	if m == nil {
		t.Fatalf("the root go.mod does not require %s", mod)
	}
	cmd := exec.Command("go", "mod", "download", "-json", mod+"@"+m[1])
	cmd.Dir = t.TempDir() // outside any module
	cmd.Env = append(os.Environ(), "GOFLAGS=", "GOWORK=off")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go mod download %s@%s: %v", mod, m[1], err)
	}
	var info struct{ Dir string }
	if err := json.Unmarshal(out, &info); err != nil || info.Dir == "" {
		t.Fatalf("go mod download %s@%s: no source folder in %s", mod, m[1], out)
	}
	return info.Dir
}

func annotation(svc *servingv1.Service, key string) string {
	return svc.Spec.Template.Annotations[key]
}

func env(svc *servingv1.Service) map[string]string {
	m := map[string]string{}
	for _, e := range svc.Spec.Template.Spec.Containers[0].Env {
		m[e.Name] = e.Value
	}
	return m
}

// TestKnativeServices: every Knative Service decodes strictly and passes
// Knative's and our annotation checks, and each one keeps the promise its
// comments make.
func TestKnativeServices(t *testing.T) {
	svcs := knativeServices(t)
	for _, name := range []string{"checkout", "order-processor", bindingName} {
		if svcs[name] == nil {
			t.Fatalf("no Knative Service %s in deploy/knative", name)
		}
	}
	for name, svc := range svcs {
		img := svc.Spec.Template.Spec.Containers[0].Image
		if m := imagePattern.FindStringSubmatch(img); m == nil || m[1] != name {
			t.Errorf("%s: image %q must be localhost:5001/funcd/%s:latest (setup.sh replaces the tag)", name, img, name)
		}
	}

	checkout := svcs["checkout"]
	if annotation(checkout, "dapr.io/enabled") != "true" || annotation(checkout, "dapr.io/app-id") != "checkout" {
		t.Error("checkout publishes through Dapr: it needs dapr.io/enabled \"true\" and app-id checkout")
	}
	if annotation(checkout, "autoscaling.knative.dev/min-scale") != "0" {
		t.Error("checkout must scale to zero (min-scale \"0\")")
	}

	op := svcs["order-processor"]
	if annotation(op, "dapr.io/enabled") != "false" {
		t.Error(`order-processor must say dapr.io/enabled: "false": func deploy adds a sidecar to every ksvc, and a sidecar pulling next to the binding would split the orders`)
	}
	if annotation(op, "autoscaling.knative.dev/min-scale") != "0" {
		t.Error("order-processor must scale to zero (min-scale \"0\")")
	}

	b := svcs[bindingName]
	if annotation(b, "dapr.io/enabled") != "true" || annotation(b, "dapr.io/app-id") != bindingName {
		t.Errorf("the binding needs its Dapr sidecar with app id %s", bindingName)
	}
	if annotation(b, "autoscaling.knative.dev/min-scale") != "1" || annotation(b, "autoscaling.knative.dev/max-scale") != "1" {
		t.Error("the binding runs exactly one instance (min-scale and max-scale \"1\")")
	}
	if b.Labels["networking.knative.dev/visibility"] != "cluster-local" {
		t.Error("the binding must not be public (networking.knative.dev/visibility: cluster-local): its Handle publishes what it receives")
	}
}

// TestBindingConfig: the binding's environment uses exactly the names of
// the root function's Config (config.go), its resources come from the
// ConfigMap setup.sh builds, and every function a Subscription routes to has
// a Knative Service at the URL the binding is given.
func TestBindingConfig(t *testing.T) {
	svcs := knativeServices(t)
	b := svcs[bindingName]
	if b == nil {
		t.Fatalf("no Knative Service %s", bindingName)
	}
	names, prefix, err := EnvNames(filepath.Join(repoDir, "config.go"), "Config", "urlPrefix")
	if err != nil {
		t.Fatal(err)
	}
	e := env(b)
	for k := range e {
		switch {
		case k == "LISTEN_ADDRESS": // func-go's, not the binding's
		case strings.HasPrefix(k, prefix) && k != prefix+"TEMPLATE":
		case slices.Contains(names, k):
		default:
			t.Errorf("binding env %s is not a setting of the root function (config.go reads %s and %s<NAME>)", k, strings.Join(names, ", "), prefix)
		}
	}
	ns := e["NAMESPACE"]
	if ns == "" {
		t.Error("set NAMESPACE: the function URLs name it")
	}
	if !strings.Contains(e["FUNCTION_URL_TEMPLATE"], "{function}") {
		t.Errorf("FUNCTION_URL_TEMPLATE %q must contain {function}", e["FUNCTION_URL_TEMPLATE"])
	}

	// RESOURCES_PATH is the mount of the funcd-binding-resources ConfigMap.
	c := b.Spec.Template.Spec.Containers[0]
	mounted := false
	for _, vm := range c.VolumeMounts {
		for _, v := range b.Spec.Template.Spec.Volumes {
			if v.Name == vm.Name && v.ConfigMap != nil && v.ConfigMap.Name == "funcd-binding-resources" && vm.MountPath == e["RESOURCES_PATH"] {
				mounted = true
			}
		}
	}
	if !mounted {
		t.Errorf("RESOURCES_PATH %q is not where the funcd-binding-resources ConfigMap is mounted", e["RESOURCES_PATH"])
	}

	// The binding's view of deploy/dapr (the ConfigMap's files).
	set, err := resources.Load(filepath.Join(deployDir, "dapr"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(set.Subscriptions) == 0 {
		t.Fatal("deploy/dapr holds no Subscription")
	}
	for _, s := range set.Subscriptions {
		for _, p := range s.Paths() {
			fn := resources.Function(p)
			svc := svcs[fn]
			if svc == nil {
				t.Errorf("subscription %s routes to %s, which has no Knative Service in deploy/knative", s.Name, fn)
				continue
			}
			// The binding reaches it through Knative: no sidecar, zero allowed.
			if annotation(svc, "dapr.io/enabled") == "true" {
				t.Errorf("%s is a binding target but has a Dapr sidecar", fn)
			}
			want := "http://" + fn + "." + ns + ".svc.cluster.local"
			if got := e[FunctionEnvName(prefix, fn)]; got != "" && got != want {
				t.Errorf("%s = %q, want %q", FunctionEnvName(prefix, fn), got, want)
			}
			if got := strings.NewReplacer("{function}", fn, "{namespace}", ns).Replace(e["FUNCTION_URL_TEMPLATE"]); got != want {
				t.Errorf("FUNCTION_URL_TEMPLATE gives %q for %s, want %q", got, fn, want)
			}
		}
	}
	// An override for a function no Subscription routes to is a typo.
	for k := range e {
		if strings.HasPrefix(k, prefix) && k != prefix+"TEMPLATE" {
			found := false
			for _, s := range set.Subscriptions {
				for _, p := range s.Paths() {
					found = found || FunctionEnvName(prefix, resources.Function(p)) == k
				}
			}
			if !found {
				t.Errorf("%s names no function a Subscription routes to", k)
			}
		}
	}
}

// TestMatchesFuncYAML: the manifests and the functions' func.yaml files say
// the same, in both directions, so `func deploy` (v0.44.0) over a Service
// setup.sh made keeps every label, annotation, scale bound, env variable,
// volume and resource setting, and setup.sh keeps everything func.yaml asks
// for. What func deploy cannot express is a KnownDifference.
func TestMatchesFuncYAML(t *testing.T) {
	svcs := knativeServices(t)
	for path, svcName := range map[string]string{
		filepath.Join(repoDir, "func.yaml"):                           bindingName,
		filepath.Join(repoDir, "functions/checkout/func.yaml"):        "checkout",
		filepath.Join(repoDir, "functions/order-processor/func.yaml"): "order-processor",
	} {
		f, err := ParseFuncYAML(read(t, path))
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		svc := svcs[svcName]
		if f.Name != svcName || svc == nil {
			t.Errorf("%s: name %q has no Knative Service %q", path, f.Name, svcName)
			continue
		}
		for _, err := range CompareFuncYAML(f, svc) {
			t.Errorf("%s vs deploy/knative (%s): %v", path, svcName, err)
		}
	}
}

// TestDaprResources: every Dapr file in deploy/ (variants included) and in
// components/ decodes strictly into Dapr 1.16's own types; Components match
// their components-contrib metadata.yaml, Subscriptions and Resiliency are
// what daprd accepts. deploy/dapr also loads with funcd's loader (the
// binding's exact view of its ConfigMap), with the Kafka swap too; the
// names match components/ so one Subscription works on the laptop and on
// the cluster.
func TestDaprResources(t *testing.T) {
	dir := filepath.Join(deployDir, "dapr")
	files := []string{filepath.Join(deployDir, "keda", "pubsub.yaml")}
	for _, root := range []string{dir, filepath.Join(repoDir, "components")} {
		err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() && strings.HasSuffix(p, ".yaml") {
				files = append(files, p)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	contrib := contribDir(t)
	for _, f := range files {
		set := dapr(t, f)
		for _, c := range set.Components {
			if err := CheckComponent(c, contrib); err != nil {
				t.Errorf("%s: %v", f, err)
			}
		}
		for _, s := range set.Subscriptions {
			if err := CheckSubscription(s); err != nil {
				t.Error(err)
			}
		}
		if err := CheckResiliencies(set.Resiliencies); err != nil {
			t.Error(err)
		}
	}

	// The binding's view: deploy/dapr as its ConfigMap holds it, and with
	// the Kafka swap, as setup.sh builds the ConfigMap.
	bset, err := resources.Load(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(bset.Skipped) > 0 {
		t.Errorf("deploy/dapr holds resources the binding does not read: %v", bset.Skipped)
	}
	swap := t.TempDir()
	for _, f := range glob(t, filepath.Join(dir, "*.yaml")) {
		if err := os.WriteFile(filepath.Join(swap, filepath.Base(f)), read(t, f), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(swap, "pubsub.yaml"), read(t, filepath.Join(dir, "kafka", "pubsub.yaml")), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := resources.Load(swap, nil); err != nil {
		t.Errorf("deploy/dapr with kafka/pubsub.yaml as pubsub.yaml: %v", err)
	}

	set := dapr(t, glob(t, filepath.Join(dir, "*.yaml"))...)
	if i := slices.IndexFunc(set.Components, func(c Component) bool { return c.Name == "orderpubsub" }); i < 0 {
		t.Fatal("deploy/dapr has no orderpubsub Component")
	}
	if len(set.Resiliencies) == 0 {
		t.Error("deploy/dapr has no Resiliency")
	}
	if err := CheckResiliencies(set.Resiliencies); err != nil {
		t.Error(err)
	}

	// Same names as the laptop's resources.
	redis, kafka := component(t, filepath.Join(dir, "pubsub.yaml")), component(t, filepath.Join(dir, "kafka", "pubsub.yaml"))
	for path, c := range map[string]Component{
		filepath.Join(repoDir, "components/redis/pubsub.yaml"): redis,
		filepath.Join(repoDir, "components/kafka/pubsub.yaml"): kafka,
	} {
		local := component(t, path)
		if local.Name != c.Name || local.Spec.Type != c.Spec.Type {
			t.Errorf("%s is %s (%s), deploy/dapr has %s (%s): keep the names identical", path, local.Name, local.Spec.Type, c.Name, c.Spec.Type)
		}
	}
	if !slices.Equal(redis.Scopes, kafka.Scopes) {
		t.Errorf("kafka/pubsub.yaml scopes %v differ from pubsub.yaml %v: the swap is one file", kafka.Scopes, redis.Scopes)
	}
	for _, l := range dapr(t, filepath.Join(repoDir, "components/subscription.yaml")).Subscriptions {
		i := slices.IndexFunc(set.Subscriptions, func(s Subscription) bool { return s.Name == l.Name })
		if i < 0 {
			t.Errorf("components/ has Subscription %s, deploy/dapr does not", l.Name)
			continue
		}
		c := set.Subscriptions[i]
		if c.Spec.Pubsubname != l.Spec.Pubsubname || c.Spec.Topic != l.Spec.Topic || c.Spec.DeadLetterTopic != l.Spec.DeadLetterTopic ||
			!slices.Equal(c.Paths(), l.Paths()) {
			t.Errorf("Subscription %s differs between components/ and deploy/dapr: %+v vs %+v", l.Name, l.Spec, c.Spec)
		}
	}

	// Scopes: the publisher and the binding load orderpubsub; no
	// Subscription reaches the binding's daprd; only known apps are named.
	for _, app := range []string{"checkout", bindingName} {
		if !slices.Contains(redis.Scopes, app) {
			t.Errorf("orderpubsub must be scoped to %s", app)
		}
	}
	if slices.Contains(redis.Scopes, "order-processor") {
		t.Error("orderpubsub (binding variant) must not be scoped to order-processor: a sidecar there would pull orders next to the binding")
	}
	if err := SubscriptionScopes(set.Subscriptions, bindingName); err != nil {
		t.Error(err)
	}
	apps := []string{"checkout", "order-processor", bindingName}
	for _, r := range set.Resiliencies {
		for _, s := range r.Scopes {
			if !slices.Contains(apps, s) {
				t.Errorf("resiliency %s: scope %q is not an app id here (%v)", r.Name, s, apps)
			}
		}
	}
}

// TestConsumerNames: every replica of an app reads with one consumer
// group (two binding pods during a rollout share the load, not each get
// every order), and on Kafka each pod has its own name within it.
func TestConsumerNames(t *testing.T) {
	for _, f := range []string{
		filepath.Join(deployDir, "dapr", "pubsub.yaml"),
		filepath.Join(deployDir, "dapr", "kafka", "pubsub.yaml"),
		filepath.Join(deployDir, "keda", "pubsub.yaml"),
	} {
		c := component(t, f)
		if err := ConsumerNames(c.Spec.Type, c.Metadata); err != nil {
			t.Errorf("%s: %v", f, err)
		}
		if got := ConsumerGroup(c.Metadata, "some-app"); got != "some-app" {
			t.Errorf("%s: consumer group for app some-app is %q, want the app id", f, got)
		}
	}
}

// TestKEDA: the ScaledObject and its Deployment, and that they measure the
// consumer group the Deployment's daprd actually reads with.
func TestKEDA(t *testing.T) {
	so, meta, err := ScaledObject(oneDoc(t, filepath.Join(deployDir, "keda", "scaledobject.yaml")))
	if err != nil {
		t.Fatal(err)
	}
	d, err := KEDADeployment(oneDoc(t, filepath.Join(deployDir, "keda", "order-processor.yaml")))
	if err != nil {
		t.Fatal(err)
	}
	if so.Spec.ScaleTargetRef.Name != d.Name || (so.Spec.ScaleTargetRef.Kind != "" && so.Spec.ScaleTargetRef.Kind != "Deployment") {
		t.Errorf("ScaledObject targets %s %q, the Deployment is %q", so.Spec.ScaleTargetRef.Kind, so.Spec.ScaleTargetRef.Name, d.Name)
	}
	img := d.Spec.Template.Spec.Containers[0].Image
	if m := imagePattern.FindStringSubmatch(img); m == nil || m[1] != "order-processor" {
		t.Errorf("image %q must be localhost:5001/funcd/order-processor:latest (setup.sh replaces the tag)", img)
	}
	appID := d.Spec.Template.Annotations["dapr.io/app-id"]
	if d.Spec.Template.Annotations["dapr.io/enabled"] != "true" || appID == "" {
		t.Fatal("the KEDA Deployment subscribes through its own daprd: dapr.io/enabled and app-id are required")
	}

	comp := component(t, filepath.Join(deployDir, "keda", "pubsub.yaml"))
	if got := ConsumerGroup(comp.Metadata, appID); got != meta.ConsumerGroupName {
		t.Errorf("daprd reads with consumer group %q (consumerID %q, app id %q), the ScaledObject measures %q",
			got, comp.Metadata["consumerID"], appID, meta.ConsumerGroupName)
	}
	if !slices.Equal(meta.ConnectionInfo.Addresses, []string{comp.Metadata["redisHost"]}) {
		t.Errorf("ScaledObject address %v, component redisHost %q", meta.ConnectionInfo.Addresses, comp.Metadata["redisHost"])
	}
	if !slices.Contains(comp.Scopes, appID) {
		t.Errorf("keda/pubsub.yaml must be scoped to %s", appID)
	}
	subs := dapr(t, filepath.Join(deployDir, "dapr", "subscription.yaml")).Subscriptions
	found := false
	for _, s := range subs {
		if slices.Contains(s.Scopes, appID) && s.Spec.Pubsubname == comp.Name {
			found = true
			if s.Spec.Topic != meta.StreamName {
				t.Errorf("subscription %s reads topic %q, the ScaledObject measures stream %q (Dapr's Redis stream = topic)", s.Name, s.Spec.Topic, meta.StreamName)
			}
		}
	}
	if !found {
		t.Errorf("no Subscription in deploy/dapr is scoped to %s on %s", appID, comp.Name)
	}

	// Each pod's daprd delivers at most app-max-concurrency at once; more
	// workers would hold messages inside daprd while processingTimeout runs.
	workers, err := strconv.Atoi(comp.Metadata["concurrency"])
	if err != nil {
		t.Fatalf("keda/pubsub.yaml: set concurrency explicitly (a whole number): %v", err)
	}
	appMax, err := strconv.Atoi(d.Spec.Template.Annotations["dapr.io/app-max-concurrency"])
	if err != nil {
		t.Fatalf("keda/order-processor.yaml: set dapr.io/app-max-concurrency: %v", err)
	}
	if workers > appMax {
		t.Errorf("keda/pubsub.yaml concurrency %d > dapr.io/app-max-concurrency %d: %d messages would wait inside daprd while processingTimeout runs", workers, appMax, workers-appMax)
	}

	// keda/pubsub.yaml is deploy/dapr/pubsub.yaml with other scopes and
	// concurrency.
	binding := component(t, filepath.Join(deployDir, "dapr", "pubsub.yaml"))
	delete(comp.Metadata, "concurrency")
	delete(binding.Metadata, "concurrency")
	if comp.Name != binding.Name || comp.Spec.Type != binding.Spec.Type || comp.Spec.Version != binding.Spec.Version || !maps.Equal(comp.Metadata, binding.Metadata) {
		t.Errorf("keda/pubsub.yaml and dapr/pubsub.yaml differ beyond scopes and concurrency:\n%+v\n%+v", comp.Metadata, binding.Metadata)
	}
}

// TestBrokers: the broker manifests decode strictly, Redis is 7+, and the
// Services are where the components and the ScaledObject look.
func TestBrokers(t *testing.T) {
	hosts := map[string]string{
		"redis": component(t, filepath.Join(deployDir, "dapr", "pubsub.yaml")).Metadata["redisHost"],
		"kafka": component(t, filepath.Join(deployDir, "dapr", "kafka", "pubsub.yaml")).Metadata["brokers"],
	}
	for broker, host := range hosts {
		file := filepath.Join(deployDir, "brokers", broker+".yaml")
		var deploy, service bool
		for _, doc := range Docs(read(t, file)) {
			_, kind, name, err := TypeMeta(doc)
			if err != nil {
				t.Fatalf("%s: %v", file, err)
			}
			switch kind {
			case "Deployment":
				d, err := Deployment(doc)
				if err != nil {
					t.Errorf("%s: %v", file, err)
					continue
				}
				deploy = true
				if broker == "redis" {
					if err := RedisImage(d.Spec.Template.Spec.Containers[0].Image); err != nil {
						t.Error(err)
					}
				}
				if broker == "kafka" && (d.Spec.Template.Spec.EnableServiceLinks == nil || *d.Spec.Template.Spec.EnableServiceLinks) {
					t.Error("kafka: enableServiceLinks must be false (the image reads every KAFKA_* variable as a setting)")
				}
			case "Service":
				var svc struct {
					Spec struct {
						Ports []struct {
							Port int `json:"port"`
						} `json:"ports"`
					} `json:"spec"`
				}
				if err := yaml.Unmarshal(doc, &svc); err != nil {
					t.Fatal(err)
				}
				service = true
				want := name + ".default.svc.cluster.local:" + strconv.Itoa(svc.Spec.Ports[0].Port)
				if host != want {
					t.Errorf("%s component points at %q, the Service is %q", broker, host, want)
				}
			default:
				t.Errorf("%s: unexpected %s", file, kind)
			}
		}
		if !deploy || !service {
			t.Errorf("%s: want a Deployment and a Service", file)
		}
	}
}

// TestKind: the kind config decodes strictly and maps the Kourier node port
// setup.sh creates.
func TestKind(t *testing.T) {
	c, err := KindCluster(oneDoc(t, filepath.Join(deployDir, "kind", "cluster.yaml")))
	if err != nil {
		t.Fatal(err)
	}
	setup := string(read(t, filepath.Join(deployDir, "setup.sh")))
	if !strings.Contains(setup, "CLUSTER_NAME=${CLUSTER_NAME:-"+c.Name+"}") {
		t.Errorf("kind cluster %q is not setup.sh's default CLUSTER_NAME", c.Name)
	}
	mapped := false
	for _, m := range c.Nodes[0].ExtraPortMappings {
		if m.ContainerPort == 31080 {
			mapped = true
			if !strings.Contains(setup, "INGRESS_HOST_PORT="+strconv.Itoa(int(m.HostPort))) {
				t.Errorf("hostPort %d is not setup.sh's INGRESS_HOST_PORT", m.HostPort)
			}
		}
	}
	if !mapped || !strings.Contains(setup, "nodePort: 31080") {
		t.Error("the Kourier NodePort 31080 must be mapped in cluster.yaml and created by setup.sh")
	}
}

// TestPinnedVersions: setup.sh installs the releases whose API types this
// module validates against.
func TestPinnedVersions(t *testing.T) {
	gomod := string(read(t, "go.mod"))
	setup := string(read(t, filepath.Join(deployDir, "setup.sh")))
	rootMod := string(read(t, filepath.Join(repoDir, "go.mod")))
	require := func(mod, text string) string {
		m := regexp.MustCompile(`(?m)^\s*(?:require\s+)?` + regexp.QuoteMeta(mod) + `\s+(v\S+)`).FindStringSubmatch(text)
		if m == nil {
			t.Fatalf("no requirement on %s", mod)
		}
		return m[1]
	}
	pin := func(name string) string {
		m := regexp.MustCompile(`(?m)^` + name + `=(\S+)`).FindStringSubmatch(setup)
		if m == nil {
			t.Fatalf("setup.sh does not set %s", name)
		}
		return m[1]
	}
	// knative.dev/serving v0.N.x is Knative v1.(N-27).x (v0.43.0 = v1.16.0).
	serving := require("knative.dev/serving", gomod)
	var minor, patch int
	if _, err := fmt.Sscanf(serving, "v0.%d.%d", &minor, &patch); err != nil {
		t.Fatal(err)
	}
	if want := "v1." + strconv.Itoa(minor-27) + "." + strconv.Itoa(patch); pin("KNATIVE_VERSION") != want {
		t.Errorf("KNATIVE_VERSION=%s, but deploy/validate checks with knative.dev/serving %s (Knative %s)", pin("KNATIVE_VERSION"), serving, want)
	}
	if got, want := pin("KEDA_VERSION"), require("github.com/kedacore/keda/v2", gomod); got != want {
		t.Errorf("KEDA_VERSION=%s, deploy/validate checks with %s", got, want)
	}
	if got, want := "v"+pin("DAPR_VERSION"), require("github.com/dapr/dapr", rootMod); got != want {
		t.Errorf("DAPR_VERSION=%s, the root module's daprd is %s", got, want)
	}
	if got, want := "v"+pin("DAPR_VERSION"), require("github.com/dapr/dapr", gomod); got != want {
		t.Errorf("DAPR_VERSION=%s, deploy/validate checks annotations with %s", got, want)
	}
	if got, want := pin("KIND_VERSION"), require("sigs.k8s.io/kind", gomod); got != want {
		t.Errorf("KIND_VERSION=%s, deploy/validate checks the cluster config with %s", got, want)
	}
	// Jaeger v1.N.x and v2.(N-63).x are one release (v1.76.0 / v2.13.0).
	jaeger := require("github.com/jaegertracing/jaeger", string(read(t, filepath.Join(repoDir, "tools", "jaeger", "go.mod"))))
	if _, err := fmt.Sscanf(jaeger, "v1.%d.%d", &minor, &patch); err != nil {
		t.Fatal(err)
	}
	if want := strconv.Itoa(2) + "." + strconv.Itoa(minor-63) + "." + strconv.Itoa(patch); pin("JAEGER_VERSION") != want {
		t.Errorf("JAEGER_VERSION=%s, but tools/jaeger builds github.com/jaegertracing/jaeger %s (Jaeger %s)", pin("JAEGER_VERSION"), jaeger, want)
	}
}
