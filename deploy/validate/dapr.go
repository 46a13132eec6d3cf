package validate

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	componentsapi "github.com/dapr/dapr/pkg/apis/components/v1alpha1"
	configurationapi "github.com/dapr/dapr/pkg/apis/configuration/v1alpha1"
	resiliencyapi "github.com/dapr/dapr/pkg/apis/resiliency/v1alpha1"
	subscriptionsv1 "github.com/dapr/dapr/pkg/apis/subscriptions/v1alpha1"
	subscriptionsv2 "github.com/dapr/dapr/pkg/apis/subscriptions/v2alpha1"
	kitconfig "github.com/dapr/kit/config"
	"github.com/dapr/kit/retry"
	"sigs.k8s.io/yaml"
)

// Component is a Dapr Component decoded into Dapr 1.16's own type, with the
// file it came from and its metadata values as daprd hands them to the
// component (a plain value's string form; secretKeyRef and envRef values
// are resolved by daprd and read here as empty).
type Component struct {
	componentsapi.Component
	File     string
	Metadata map[string]string
}

// Subscription is a Dapr Subscription as dapr.io/v2alpha1 (a v1alpha1 one
// converted as Dapr's conversion webhook converts it), with its file.
type Subscription struct {
	subscriptionsv2.Subscription
	File string
}

// Paths lists the subscription's route paths, rules first.
func (s Subscription) Paths() []string {
	var paths []string
	for _, r := range s.Spec.Routes.Rules {
		paths = append(paths, r.Path)
	}
	if s.Spec.Routes.Default != "" {
		paths = append(paths, s.Spec.Routes.Default)
	}
	return paths
}

// Resiliency is a Dapr Resiliency with its file.
type Resiliency struct {
	resiliencyapi.Resiliency
	File string
}

// Configuration is a Dapr Configuration (what a pod's dapr.io/config
// annotation names) with its file.
type Configuration struct {
	configurationapi.Configuration
	File string
}

// DaprSet is the Dapr resources of one or more files.
type DaprSet struct {
	Components     []Component
	Subscriptions  []Subscription
	Resiliencies   []Resiliency
	Configurations []Configuration
}

// Add appends other's resources.
func (s *DaprSet) Add(other *DaprSet) {
	s.Components = append(s.Components, other.Components...)
	s.Subscriptions = append(s.Subscriptions, other.Subscriptions...)
	s.Resiliencies = append(s.Resiliencies, other.Resiliencies...)
	s.Configurations = append(s.Configurations, other.Configurations...)
}

// DecodeDapr decodes every document of a Dapr resource file strictly into
// Dapr 1.16's API types (an unknown or misspelled field is an error, as the
// API server's schema makes it): Components (dapr.io/v1alpha1),
// Subscriptions (dapr.io/v2alpha1 and v1alpha1), Resiliency and
// Configuration (dapr.io/v1alpha1). Other kinds are errors: deploy/ holds no
// others.
func DecodeDapr(file string, data []byte) (*DaprSet, error) {
	set := &DaprSet{}
	for i, doc := range Docs(data) {
		if err := set.decode(file, doc); err != nil {
			return nil, fmt.Errorf("%s: document %d: %w", file, i+1, err)
		}
	}
	return set, nil
}

func (s *DaprSet) decode(file string, doc []byte) error {
	apiVersion, kind, name, err := TypeMeta(doc)
	if err != nil {
		return err
	}
	switch apiVersion + " " + kind {
	case "dapr.io/v1alpha1 Component":
		var c componentsapi.Component
		if err := yaml.UnmarshalStrict(doc, &c); err != nil {
			return fmt.Errorf("decode Component %s: %w", name, err)
		}
		meta := map[string]string{}
		for _, nv := range c.Spec.Metadata {
			meta[nv.Name] = nv.Value.String()
		}
		s.Components = append(s.Components, Component{Component: c, File: file, Metadata: meta})
	case "dapr.io/v2alpha1 Subscription":
		var sub subscriptionsv2.Subscription
		if err := yaml.UnmarshalStrict(doc, &sub); err != nil {
			return fmt.Errorf("decode Subscription %s: %w", name, err)
		}
		s.Subscriptions = append(s.Subscriptions, Subscription{Subscription: sub, File: file})
	case "dapr.io/v1alpha1 Subscription":
		var v1 subscriptionsv1.Subscription
		if err := yaml.UnmarshalStrict(doc, &v1); err != nil {
			return fmt.Errorf("decode Subscription %s: %w", name, err)
		}
		var sub subscriptionsv2.Subscription
		if err := sub.ConvertFrom(&v1); err != nil {
			return fmt.Errorf("convert Subscription %s to v2alpha1: %w", name, err)
		}
		s.Subscriptions = append(s.Subscriptions, Subscription{Subscription: sub, File: file})
	case "dapr.io/v1alpha1 Resiliency":
		var r resiliencyapi.Resiliency
		if err := yaml.UnmarshalStrict(doc, &r); err != nil {
			return fmt.Errorf("decode Resiliency %s: %w", name, err)
		}
		s.Resiliencies = append(s.Resiliencies, Resiliency{Resiliency: r, File: file})
	case "dapr.io/v1alpha1 Configuration":
		var c configurationapi.Configuration
		if err := yaml.UnmarshalStrict(doc, &c); err != nil {
			return fmt.Errorf("decode Configuration %s: %w", name, err)
		}
		s.Configurations = append(s.Configurations, Configuration{Configuration: c, File: file})
	default:
		return fmt.Errorf("%s %q (%s) is not a Dapr Component, Subscription, Resiliency or Configuration", kind, name, apiVersion)
	}
	return nil
}

// LoadDapr decodes the given files into one set.
func LoadDapr(files ...string) (*DaprSet, error) {
	set := &DaprSet{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("read dapr resources: %w", err)
		}
		s, err := DecodeDapr(f, data)
		if err != nil {
			return nil, err
		}
		set.Add(s)
	}
	return set, nil
}

// ---------------------------------------------------------------------------
// Components against components-contrib's metadata.yaml

// ContribSchema is what one component's metadata.yaml in components-contrib
// documents: its version and every metadata name, including those of its
// authentication profiles.
type ContribSchema struct {
	Version string
	Names   []string
	// Builtin names the built-in authentication profiles it accepts, whose
	// own fields are defined outside the module (.build-tools).
	Builtin []string
}

type contribMetadataFile struct {
	Type     string          `json:"type"`
	Name     string          `json:"name"`
	Version  string          `json:"version"`
	Metadata []contribField  `json:"metadata"`
	Auth     []contribFields `json:"authenticationProfiles"`
	Builtin  []struct {
		Name     string         `json:"name"`
		Metadata []contribField `json:"metadata"`
	} `json:"builtinAuthenticationProfiles"`
}

type contribField struct {
	Name string `json:"name"`
}

type contribFields struct {
	Metadata []contribField `json:"metadata"`
}

// ContribSchemaFor reads <category>/<name>/metadata.yaml for component type
// typ (e.g. pubsub.redis) from a components-contrib source tree.
func ContribSchemaFor(contribDir, typ string) (ContribSchema, error) {
	category, name, ok := strings.Cut(typ, ".")
	if !ok {
		return ContribSchema{}, fmt.Errorf("type %q is not <category>.<name>", typ)
	}
	path := filepath.Join(contribDir, category, name, "metadata.yaml")
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return ContribSchema{}, fmt.Errorf("type %s: components-contrib has no %s/%s/metadata.yaml: not a component of this release", typ, category, name)
	}
	if err != nil {
		return ContribSchema{}, fmt.Errorf("type %s: %w", typ, err)
	}
	var f contribMetadataFile
	if err := yaml.Unmarshal(data, &f); err != nil {
		return ContribSchema{}, fmt.Errorf("%s: %w", path, err)
	}
	sch := ContribSchema{Version: f.Version}
	add := func(fields []contribField) {
		for _, fl := range fields {
			if !slices.Contains(sch.Names, fl.Name) {
				sch.Names = append(sch.Names, fl.Name)
			}
		}
	}
	add(f.Metadata)
	for _, p := range f.Auth {
		add(p.Metadata)
	}
	for _, p := range f.Builtin {
		sch.Builtin = append(sch.Builtin, p.Name)
		add(p.Metadata)
	}
	slices.Sort(sch.Names)
	return sch, nil
}

// daprdMetadata are metadata names daprd itself reads or sets for every
// component of a category, whether or not a component's metadata.yaml lists
// them: for pub/sub, consumerID (pkg/runtime/processor/pubsub sets it, the
// app id when unset; pubsub.kafka takes it as the consumer group when
// consumerGroup is unset); for bindings, direction and route
// (pkg/runtime/processor/binding).
var daprdMetadata = map[string][]string{
	"pubsub":   {"consumerID"},
	"bindings": {"direction", "route"},
}

// CheckComponent checks a Component against its type's metadata.yaml: the
// type exists in this components-contrib release, the version is the one it
// documents, and every metadata name is one it reads (a misspelled name is
// ignored by Dapr, silently); each item has a value source. contribDir is
// the components-contrib module's source.
func CheckComponent(c Component, contribDir string) error {
	where := fmt.Sprintf("component %s (%s)", c.Name, c.Spec.Type)
	sch, err := ContribSchemaFor(contribDir, c.Spec.Type)
	if err != nil {
		return fmt.Errorf("component %s: %w", c.Name, err)
	}
	var errs []error
	if c.Spec.Version != sch.Version {
		errs = append(errs, fmt.Errorf("%s: version %q, components-contrib has %q", where, c.Spec.Version, sch.Version))
	}
	category, _, _ := strings.Cut(c.Spec.Type, ".")
	for _, nv := range c.Spec.Metadata {
		known := slices.Contains(sch.Names, nv.Name) || slices.Contains(daprdMetadata[category], nv.Name)
		if !known {
			errs = append(errs, fmt.Errorf("%s: unknown metadata %q (its metadata.yaml lists %s)", where, nv.Name, strings.Join(sch.Names, ", ")))
		}
		sources := 0
		if len(nv.Value.Raw) > 0 {
			sources++
		}
		if nv.SecretKeyRef.Name != "" {
			sources++
		}
		if nv.EnvRef != "" {
			sources++
		}
		if sources > 1 {
			errs = append(errs, fmt.Errorf("%s: metadata %q has more than one of value, secretKeyRef, envRef", where, nv.Name))
		}
	}
	// components-contrib v1.16.1 reads pubsub.redis redeliverInterval only
	// as a number of milliseconds (Settings: mapstructure:"-", then
	// strconv.ParseUint): a "15s" is ignored and the default stays.
	if v, ok := c.Metadata["redeliverInterval"]; ok && c.Spec.Type == "pubsub.redis" {
		if _, err := strconv.ParseUint(v, 10, 64); err != nil {
			errs = append(errs, fmt.Errorf("%s: redeliverInterval %q is ignored: components-contrib reads it only as milliseconds (e.g. \"15000\")", where, v))
		}
	}
	return errors.Join(errs...)
}

// ---------------------------------------------------------------------------
// Subscriptions

// CheckSubscription checks what daprd needs of a Subscription: a pub/sub
// name, a topic, and a route (rules need paths).
func CheckSubscription(s Subscription) error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("subscription %s (%s): "+format, append([]any{s.Name, s.File}, args...)...))
	}
	if s.Spec.Pubsubname == "" {
		bad("spec.pubsubname is required")
	}
	if s.Spec.Topic == "" {
		bad("spec.topic is required")
	}
	if len(s.Paths()) == 0 {
		bad("a route is required: spec.routes.default or spec.routes.rules")
	}
	for i, r := range s.Spec.Routes.Rules {
		if r.Path == "" {
			bad("spec.routes.rules[%d].path is required", i)
		}
	}
	return errors.Join(errs...)
}

// SubscriptionScopes rejects a Subscription the binding's own daprd would
// load: daprd would deliver the topic to the binding's Handle, which
// publishes what it receives back to the topic (see the root function.go).
func SubscriptionScopes(subs []Subscription, bindingAppID string) error {
	var errs []error
	for _, s := range subs {
		if len(s.Scopes) == 0 {
			errs = append(errs, fmt.Errorf("subscription %s (%s) has no scopes: every daprd would load it, the binding's too", s.Name, s.File))
		}
		if slices.Contains(s.Scopes, bindingAppID) {
			errs = append(errs, fmt.Errorf("subscription %s (%s) is scoped to %s: its daprd would deliver the topic to the binding's Handle, which publishes it again (a loop)", s.Name, s.File, bindingAppID))
		}
	}
	return errors.Join(errs...)
}

// ---------------------------------------------------------------------------
// Resiliency

// circuitBreakerConfig holds the fields daprd decodes a circuit breaker
// into (pkg/resiliency/breaker.CircuitBreaker, through dapr/kit's config
// decoder); the trip expression is CEL, compiled by daprd and by funcd's
// binding.
type circuitBreakerConfig struct {
	MaxRequests uint32        `mapstructure:"maxRequests"`
	Interval    time.Duration `mapstructure:"interval"`
	Timeout     time.Duration `mapstructure:"timeout"`
	Trip        string        `mapstructure:"trip"`
}

// CheckResiliencies decodes every policy as daprd does
// (pkg/resiliency.decodePolicies: timeouts as milliseconds or Go
// durations, retries with dapr/kit's retry.DecodeConfig, circuit breakers
// with its config decoder) and checks that every target names policies some
// resource defines (daprd merges all of them).
func CheckResiliencies(rs []Resiliency) error {
	var errs []error
	timeouts, retries, breakers := map[string]bool{}, map[string]bool{}, map[string]bool{}
	for _, r := range rs {
		where := fmt.Sprintf("resiliency %s (%s)", r.Name, r.File)
		p := r.Spec.Policies
		for name, v := range p.Timeouts {
			timeouts[name] = true
			if d, err := daprDuration(v); err != nil || d <= 0 {
				errs = append(errs, fmt.Errorf("%s: timeouts.%s: %q is not a positive duration", where, name, v))
			}
		}
		for name, v := range p.Retries {
			retries[name] = true
			rc := retry.DefaultConfig()
			if err := retry.DecodeConfig(&rc, asMap(v)); err != nil {
				errs = append(errs, fmt.Errorf("%s: retries.%s: %w", where, name, err))
			}
		}
		for name, v := range p.CircuitBreakers {
			breakers[name] = true
			var cb circuitBreakerConfig
			if err := kitconfig.Decode(asMap(v), &cb); err != nil {
				errs = append(errs, fmt.Errorf("%s: circuitBreakers.%s: %w", where, name, err))
			}
		}
	}
	check := func(where, kind, name string, defined map[string]bool) {
		if name != "" && !defined[name] {
			errs = append(errs, fmt.Errorf("%s: %s policy %q is not defined", where, kind, name))
		}
	}
	for _, r := range rs {
		for comp, t := range r.Spec.Targets.Components {
			for dir, n := range map[string]resiliencyapi.PolicyNames{"inbound": t.Inbound, "outbound": t.Outbound} {
				where := fmt.Sprintf("resiliency %s (%s): targets.components.%s.%s", r.Name, r.File, comp, dir)
				check(where, "timeout", n.Timeout, timeouts)
				check(where, "retry", n.Retry, retries)
				check(where, "circuit breaker", n.CircuitBreaker, breakers)
			}
		}
		for app, n := range r.Spec.Targets.Apps {
			where := fmt.Sprintf("resiliency %s (%s): targets.apps.%s", r.Name, r.File, app)
			check(where, "timeout", n.Timeout, timeouts)
			check(where, "retry", n.Retry, retries)
			check(where, "circuit breaker", n.CircuitBreaker, breakers)
		}
	}
	return errors.Join(errs...)
}

// daprDuration parses a duration as daprd's resiliency does: a bare
// integer is milliseconds.
func daprDuration(v string) (time.Duration, error) {
	if ms, err := strconv.ParseInt(v, 10, 64); err == nil {
		return time.Duration(ms) * time.Millisecond, nil
	}
	return time.ParseDuration(v)
}

// asMap turns a policy into the generic map daprd decodes (its toMap).
func asMap(v any) any {
	data, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	var m any
	if json.Unmarshal(data, &m) != nil {
		return nil
	}
	return m
}

// ---------------------------------------------------------------------------
// Consumers

// ConsumerGroup is the consumer group daprd uses with a component: its
// consumerID (or Kafka consumerGroup) with {appID} resolved; the app id
// when unset.
func ConsumerGroup(meta map[string]string, appID string) string {
	id := meta["consumerID"]
	if g := meta["consumerGroup"]; g != "" {
		id = g
	}
	if strings.TrimSpace(id) == "" {
		return appID
	}
	return strings.ReplaceAll(id, "{appID}", appID)
}

// podPlaceholders are the metadata placeholders daprd 1.16 fills in
// differently in every pod (pkg/runtime/meta: {podName} from POD_NAME,
// {uuid} a new random id per use; {appID} and {namespace} are the same in
// every replica).
var podPlaceholders = []string{"{podName}", "{uuid}"}

// ConsumerNames checks how a pub/sub Component names its consumers. The
// consumer group must be the same in every replica of an app, or every pod
// becomes its own group and gets every message; for pubsub.redis that value
// (consumerID) is the consumer name too, since components-contrib v1.16.1
// has no separate key for it. A pubsub.kafka Component gives each pod its
// own client id within the group ("{podName}").
func ConsumerNames(typ string, meta map[string]string) error {
	var errs []error
	for _, key := range []string{"consumerID", "consumerGroup"} {
		for _, p := range podPlaceholders {
			if strings.Contains(meta[key], p) {
				errs = append(errs, fmt.Errorf("%s %q contains %s: each replica would be its own consumer group and get every message; keep the group the same for every pod (\"{appID}\")", key, meta[key], p))
			}
		}
	}
	if typ == "pubsub.kafka" && !strings.Contains(meta["clientID"], "{podName}") {
		errs = append(errs, fmt.Errorf("clientID %q: give each pod its own name within the group with \"{podName}\"", meta["clientID"]))
	}
	return errors.Join(errs...)
}

// CheckConfiguration checks a Configuration's tracing as daprd 1.16 reads it
// (pkg/runtime setupTracing, pkg/diagnostics/utils): daprd reads a
// samplingRate that is not a number as 0 and then records nothing, without
// a word; it refuses to start on an otel protocol other than http or grpc;
// its OTLP exporters take host:port (a scheme or a path there makes every
// export fail); an otel block without an endpoint or protocol exports
// nothing.
func CheckConfiguration(c Configuration) error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("configuration %s: "+format, append([]any{c.Name}, args...)...))
	}
	tr := c.Spec.TracingSpec
	if tr == nil {
		return nil
	}
	if rate, err := strconv.ParseFloat(tr.SamplingRate, 64); err != nil || rate < 0 || rate > 1 {
		bad("tracing.samplingRate %q is not a number from 0 to 1 (daprd would read it as 0: no spans at all)", tr.SamplingRate)
	}
	if o := tr.Otel; o != nil {
		switch {
		case o.Protocol != "http" && o.Protocol != "grpc":
			bad("tracing.otel.protocol %q is not http or grpc (daprd refuses to start)", o.Protocol)
		case o.EndpointAddress == "":
			bad("tracing.otel.endpointAddress is empty: daprd exports nothing")
		case strings.Contains(o.EndpointAddress, "://") || strings.Contains(o.EndpointAddress, "/"):
			bad("tracing.otel.endpointAddress %q must be host:port, without a scheme or path (daprd's exporter adds them)", o.EndpointAddress)
		default:
			if _, port, ok := strings.Cut(o.EndpointAddress, ":"); !ok {
				bad("tracing.otel.endpointAddress %q has no port", o.EndpointAddress)
			} else if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
				bad("tracing.otel.endpointAddress %q: %q is not a port", o.EndpointAddress, port)
			}
		}
	}
	return errors.Join(errs...)
}

// DaprConfigRef checks that a pod template's dapr.io/config annotation, if
// any, names one of configs: daprd looks the Configuration up in its
// namespace when it starts and exits when it is not there, so the pod never
// becomes ready.
func DaprConfigRef(anns map[string]string, configs []Configuration) error {
	name, ok := anns["dapr.io/config"]
	if !ok {
		return nil
	}
	var names []string
	for _, c := range configs {
		if c.Name == name {
			return nil
		}
		names = append(names, c.Name)
	}
	return fmt.Errorf("dapr.io/config %q names no Configuration here (have %v): daprd would not start", name, names)
}
