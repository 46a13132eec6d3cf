package resources

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"sigs.k8s.io/yaml"
)

// LookupEnv resolves envRef metadata; os.LookupEnv at the program's edge.
type LookupEnv func(key string) (string, bool)

// header is what every resource document starts with.
type header struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   Meta   `json:"metadata"`
}

type componentDoc struct {
	header `json:",inline"`
	Spec   struct {
		Type         string      `json:"type"`
		Version      string      `json:"version"`
		IgnoreErrors bool        `json:"ignoreErrors,omitempty"`
		Metadata     []nameValue `json:"metadata,omitempty"`
		InitTimeout  string      `json:"initTimeout,omitempty"`
	} `json:"spec"`
	Auth *struct {
		SecretStore string `json:"secretStore"`
	} `json:"auth,omitempty"`
	Scopes []string `json:"scopes,omitempty"`
}

type subscriptionV2Doc struct {
	header `json:",inline"`
	Spec   struct {
		PubsubName      string            `json:"pubsubname"`
		Topic           string            `json:"topic"`
		Metadata        map[string]string `json:"metadata,omitempty"`
		Routes          Routes            `json:"routes"`
		DeadLetterTopic string            `json:"deadLetterTopic,omitempty"`
		BulkSubscribe   BulkSubscribe     `json:"bulkSubscribe,omitempty"`
	} `json:"spec"`
	Scopes []string `json:"scopes,omitempty"`
}

type subscriptionV1Doc struct {
	header `json:",inline"`
	Spec   struct {
		PubsubName      string            `json:"pubsubname"`
		Topic           string            `json:"topic"`
		Metadata        map[string]string `json:"metadata,omitempty"`
		Route           string            `json:"route"`
		DeadLetterTopic string            `json:"deadLetterTopic,omitempty"`
		BulkSubscribe   BulkSubscribe     `json:"bulkSubscribe,omitempty"`
	} `json:"spec"`
	Scopes []string `json:"scopes,omitempty"`
}

// MaxFileBytes bounds a resource file: Dapr resources are a few KB, and
// decoding YAML takes some fifty times its size in memory.
const MaxFileBytes = 1 << 20

var docSeparator = regexp.MustCompile(`(?m)^---[ \t]*(#.*)?\r?$`)

// Load reads every *.yaml and *.yml file directly in dir (not in sub-folders,
// like daprd). Documents of other kinds (Configuration, HTTPEndpoint, ...)
// are listed in Set.Skipped. env resolves envRef values; nil means no variables.
func Load(dir string, env LookupEnv) (*Set, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("read resources: %w", err)
	}
	set := &Set{}
	for _, e := range entries {
		ext := filepath.Ext(e.Name())
		if e.IsDir() || (ext != ".yaml" && ext != ".yml") {
			continue
		}
		path := filepath.Join(dir, e.Name())
		data, err := readFile(path)
		if err != nil {
			return nil, fmt.Errorf("read resources: %w", err)
		}
		if err := set.add(path, data, env); err != nil {
			return nil, err
		}
	}
	if err := set.Validate(); err != nil {
		return nil, err
	}
	return set, nil
}

// Parse decodes the resources in one YAML file's content; file names the
// source in errors. It does not validate cross-references (see Set.Validate).
func Parse(file string, data []byte, env LookupEnv) (*Set, error) {
	set := &Set{}
	if err := set.add(file, data, env); err != nil {
		return nil, err
	}
	return set, nil
}

// readFile reads path unless it is larger than MaxFileBytes.
func readFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileBytes+1))
	if err != nil {
		return nil, err
	}
	if len(data) > MaxFileBytes {
		return nil, tooLarge(path)
	}
	return data, nil
}

func tooLarge(file string) error {
	return fmt.Errorf("%s: larger than %d KiB: not a Dapr resource file (they are a few KB)", file, MaxFileBytes>>10)
}

func (s *Set) add(file string, data []byte, env LookupEnv) error {
	if len(data) > MaxFileBytes {
		return tooLarge(file)
	}
	if env == nil {
		env = func(string) (string, bool) { return "", false }
	}
	// n counts the documents a reader sees: a leading "---" or a
	// comments-only document does not shift the numbers in errors.
	n := 0
	for _, doc := range docSeparator.Split(string(data), -1) {
		if strings.TrimSpace(stripComments(doc)) == "" {
			continue
		}
		n++
		if err := s.addDoc([]byte(doc), env); err != nil {
			return fmt.Errorf("%s: document %d: %w", file, n, err)
		}
	}
	s.setFile(file)
	return nil
}

func (s *Set) addDoc(doc []byte, env LookupEnv) error {
	var h header
	if err := yaml.Unmarshal(doc, &h); err != nil {
		return fmt.Errorf("not a resource: %w", cleanYAMLError(err))
	}
	switch {
	case h.Kind == KindComponent && h.APIVersion == apiComponentV1alpha1:
		c, err := decodeComponent(doc, env)
		if err != nil {
			return fmt.Errorf("component %q: %w", h.Metadata.Name, err)
		}
		s.Components = append(s.Components, c)
	case h.Kind == KindSubscription && h.APIVersion == apiSubscriptionV2alpha1:
		sub, err := decodeSubscriptionV2(doc)
		if err != nil {
			return fmt.Errorf("subscription %q: %w", h.Metadata.Name, err)
		}
		s.Subscriptions = append(s.Subscriptions, sub)
	case h.Kind == KindSubscription && h.APIVersion == apiSubscriptionV1alpha1:
		sub, err := decodeSubscriptionV1(doc)
		if err != nil {
			return fmt.Errorf("subscription %q: %w", h.Metadata.Name, err)
		}
		s.Subscriptions = append(s.Subscriptions, sub)
	case h.Kind == KindResiliency && h.APIVersion == apiComponentV1alpha1:
		r, err := decodeResiliency(doc)
		if err != nil {
			return fmt.Errorf("resiliency %q: %w", h.Metadata.Name, err)
		}
		s.Resiliencies = append(s.Resiliencies, r)
	case h.Kind == KindComponent || h.Kind == KindSubscription || h.Kind == KindResiliency:
		return fmt.Errorf("%s %q: apiVersion %q is not supported", h.Kind, h.Metadata.Name, h.APIVersion)
	case h.Kind == "" || h.APIVersion == "":
		return errors.New("not a Dapr resource: apiVersion and kind are required")
	default:
		s.Skipped = append(s.Skipped, fmt.Sprintf("%s %s (%s)", h.Kind, h.Metadata.Name, h.APIVersion))
	}
	return nil
}

// setFile records the source file on resources added without one.
func (s *Set) setFile(file string) {
	for i := range s.Components {
		if s.Components[i].File == "" {
			s.Components[i].File = file
		}
	}
	for i := range s.Subscriptions {
		if s.Subscriptions[i].File == "" {
			s.Subscriptions[i].File = file
		}
	}
	for i := range s.Resiliencies {
		if s.Resiliencies[i].File == "" {
			s.Resiliencies[i].File = file
		}
	}
}

func decodeComponent(doc []byte, env LookupEnv) (Component, error) {
	var d componentDoc
	if err := yaml.UnmarshalStrict(doc, &d); err != nil {
		return Component{}, cleanYAMLError(err)
	}
	if d.Auth != nil && d.Auth.SecretStore != "" {
		return Component{}, errors.New("auth.secretStore is not supported here; use value or envRef")
	}
	c := Component{
		Name: d.Metadata.Name, Type: d.Spec.Type, Version: d.Spec.Version,
		Metadata: make(map[string]string, len(d.Spec.Metadata)), Scopes: d.Scopes,
		IgnoreErrors: d.Spec.IgnoreErrors, InitTimeout: d.Spec.InitTimeout,
	}
	for i, item := range d.Spec.Metadata {
		if item.Name == "" {
			return Component{}, fmt.Errorf("spec.metadata[%d].name is required", i)
		}
		v, err := item.resolve(env)
		if err != nil {
			return Component{}, fmt.Errorf("spec.metadata[%d] (%s): %w", i, item.Name, err)
		}
		c.Metadata[item.Name] = v
	}
	return c, c.validate()
}

func decodeSubscriptionV2(doc []byte) (Subscription, error) {
	var d subscriptionV2Doc
	if err := yaml.UnmarshalStrict(doc, &d); err != nil {
		return Subscription{}, cleanYAMLError(err)
	}
	sub := Subscription{
		Name: d.Metadata.Name, PubsubName: d.Spec.PubsubName, Topic: d.Spec.Topic,
		Routes: d.Spec.Routes, DeadLetterTopic: d.Spec.DeadLetterTopic,
		BulkSubscribe: d.Spec.BulkSubscribe, Metadata: d.Spec.Metadata, Scopes: d.Scopes,
	}
	return sub, sub.validate()
}

// decodeSubscriptionV1 converts v1alpha1 the way daprd does: route becomes
// the default route.
func decodeSubscriptionV1(doc []byte) (Subscription, error) {
	var d subscriptionV1Doc
	if err := yaml.UnmarshalStrict(doc, &d); err != nil {
		return Subscription{}, cleanYAMLError(err)
	}
	sub := Subscription{
		Name: d.Metadata.Name, PubsubName: d.Spec.PubsubName, Topic: d.Spec.Topic,
		Routes: Routes{Default: d.Spec.Route}, DeadLetterTopic: d.Spec.DeadLetterTopic,
		BulkSubscribe: d.Spec.BulkSubscribe, Metadata: d.Spec.Metadata, Scopes: d.Scopes,
	}
	return sub, sub.validate()
}

// cleanYAMLError drops the decoder's layered prefixes, keeping the cause.
func cleanYAMLError(err error) error {
	msg := err.Error()
	for _, p := range []string{"error unmarshaling JSON: ", "while decoding JSON: ", "json: "} {
		msg = strings.ReplaceAll(msg, p, "")
	}
	return errors.New(msg)
}

func stripComments(doc string) string {
	var b bytes.Buffer
	for line := range strings.Lines(doc) {
		if !strings.HasPrefix(strings.TrimSpace(line), "#") {
			b.WriteString(line)
		}
	}
	return b.String()
}
