package resources

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
)

// writeFiles writes name -> content into a new temporary folder.
func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	fsys := fstest.MapFS{}
	for name, content := range files {
		fsys[name] = &fstest.MapFile{Data: []byte(content), Mode: 0o644}
	}
	if err := os.CopyFS(dir, fsys); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestLoad(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"pubsub.yaml":       componentYAML,
		"subscriptions.yml": subscriptionYAML + "---\n" + strings.ReplaceAll(subscriptionYAML, "order-processor", "audit"),
		"config.yaml":       "apiVersion: dapr.io/v1alpha1\nkind: Configuration\nmetadata:\n  name: cfg\n",
		"README.md":         "not yaml: [",
		"notes.txt":         "kind: Component",
		"kafka/pubsub.yaml": strings.Replace(componentYAML, "jetstream", "kafka", 1),
	})
	set, err := Load(dir, env(nil))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if got := len(set.Components); got != 1 {
		t.Fatalf("got %d components, want 1 (sub-folders are not read): %+v", got, set.Components)
	}
	c, ok := set.Component("orderpubsub")
	if !ok {
		t.Fatal("got no component orderpubsub")
	}
	if want := filepath.Join(dir, "pubsub.yaml"); c.File != want {
		t.Errorf("got File %q, want %q", c.File, want)
	}
	var names []string
	for _, s := range set.Subscriptions {
		names = append(names, s.Name+"@"+filepath.Base(s.File))
	}
	if want := []string{"order-processor-orders@subscriptions.yml", "audit-orders@subscriptions.yml"}; !slices.Equal(names, want) {
		t.Errorf("got subscriptions %v, want %v", names, want)
	}
	if want := []string{"Configuration cfg (dapr.io/v1alpha1)"}; !slices.Equal(set.Skipped, want) {
		t.Errorf("got Skipped %v, want %v", set.Skipped, want)
	}
	if _, ok := set.Component("nope"); ok {
		t.Error("got a component named nope, want none")
	}
}

func TestLoadEnv(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"pubsub.yaml": component("ps", "  metadata:\n    - name: redisHost\n      envRef: REDIS_HOST\n"),
	})
	set, err := Load(dir, env(map[string]string{"REDIS_HOST": "db:6379"}))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if got, want := set.Components[0].Metadata["redisHost"], "db:6379"; got != want {
		t.Errorf("got redisHost %q, want %q", got, want)
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name     string
		files    map[string]string
		wantErr  []string
		wantFile string // file the error must name, relative to the folder
	}{
		{
			name:     "decode error",
			files:    map[string]string{"a.yaml": componentYAML, "b.yaml": component("bad", "  nope: 1\n")},
			wantErr:  []string{`component "bad"`, `unknown field "nope"`},
			wantFile: "b.yaml",
		},
		{
			name:     "missing env var",
			files:    map[string]string{"a.yaml": component("c", "  metadata: [{name: host, envRef: UNSET_VAR}]\n")},
			wantErr:  []string{"envRef UNSET_VAR"},
			wantFile: "a.yaml",
		},
		{
			name:     "duplicate component across files",
			files:    map[string]string{"a.yaml": componentYAML, "b.yml": componentYAML},
			wantErr:  []string{`component "orderpubsub" is defined twice`, "a.yaml"},
			wantFile: "b.yml",
		},
		{
			name:     "subscription without its component",
			files:    map[string]string{"sub.yaml": subscriptionYAML},
			wantErr:  []string{`pub/sub component "orderpubsub" is not defined`},
			wantFile: "sub.yaml",
		},
		{
			name: "two subscriptions claim one route",
			files: map[string]string{
				"a.yaml": componentYAML, "s1.yaml": subscriptionYAML,
				"s2.yaml": strings.Replace(subscriptionYAML, "name: order-processor-orders", "name: again", 1),
			},
			wantErr:  []string{"orderpubsub/orders -> order-processor", "s1.yaml"},
			wantFile: "s2.yaml",
		},
	}
	big := component("big", "  metadata:\n"+strings.Repeat("  - {name: k, value: \"0123456789012345678901234567890123456789\"}\n", MaxFileBytes/60))
	tests = append(tests, struct {
		name     string
		files    map[string]string
		wantErr  []string
		wantFile string
	}{name: "file too large", files: map[string]string{"a.yaml": componentYAML, "big.yaml": big},
		wantErr: []string{"larger than 1024 KiB"}, wantFile: "big.yaml"})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeFiles(t, tt.files)
			set, err := Load(dir, env(nil))
			if err == nil {
				t.Fatalf("got %+v, want an error", set)
			}
			for _, want := range append(tt.wantErr, filepath.Join(dir, tt.wantFile)) {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("got error %q, want it to contain %q", err, want)
				}
			}
		})
	}
}

func TestLoadMissingFolder(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "nope")
	if _, err := Load(dir, nil); err == nil || !strings.Contains(err.Error(), dir) {
		t.Errorf("got %v, want an error naming %s", err, dir)
	}
}

// TestLoadRepoComponents keeps the shipped components folder loadable.
func TestLoadRepoComponents(t *testing.T) {
	set, err := Load(filepath.Join("..", "..", "components"), env(nil))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	c, ok := set.Component("orderpubsub")
	if !ok {
		t.Fatalf("got components %+v, want orderpubsub", set.Components)
	}
	if c.Type != "pubsub.jetstream" || c.Version != "v1" || c.Metadata["natsURL"] != "" {
		t.Errorf("got %s %s natsURL=%q, want pubsub.jetstream v1 on the embedded broker", c.Type, c.Version, c.Metadata["natsURL"])
	}
	if len(set.Subscriptions) != 1 {
		t.Fatalf("got %d subscriptions, want 1", len(set.Subscriptions))
	}
	s := set.Subscriptions[0]
	got := []string{s.Name, s.PubsubName, s.Topic, Function(s.Routes.Default), s.DeadLetterTopic}
	want := []string{"order-processor-orders", "orderpubsub", "orders", "order-processor", "orders-deadletter"}
	if !slices.Equal(got, want) {
		t.Errorf("got subscription %v, want %v", got, want)
	}
}

// TestLoadRepoAlternatives keeps the Redis and Kafka swaps valid beside the
// shipped subscription.
func TestLoadRepoAlternatives(t *testing.T) {
	sub, err := os.ReadFile(filepath.Join("..", "..", "components", "subscription.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"redis", "kafka"} {
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("..", "..", "components", name, "pubsub.yaml"))
			if err != nil {
				t.Fatal(err)
			}
			set, err := Parse(name+"/pubsub.yaml", append(data, "\n---\n"+string(sub)...), env(nil))
			if err == nil {
				err = set.Validate()
			}
			if err != nil {
				t.Fatalf("got %v, want nil", err)
			}
			if got, want := set.Components[0].Type, "pubsub."+name; got != want {
				t.Errorf("got type %q, want %q", got, want)
			}
		})
	}
}
