package resources

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParse feeds Parse arbitrary files: it must not panic, every error must
// name the file, and what it accepts must be valid resources.
func FuzzParse(f *testing.F) {
	for _, pattern := range []string{"*.yaml", "*/*.yaml"} {
		paths, err := filepath.Glob(filepath.Join("..", "..", "components", pattern))
		if err != nil {
			f.Fatal(err)
		}
		for _, p := range paths {
			data, err := os.ReadFile(p)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data)
		}
	}
	for _, s := range []string{
		componentYAML + "---\n" + subscriptionYAML,
		component("c", "  metadata:\n    - name: a\n      envRef: A\n    - name: b\n      value: {x: 1}\n"),
		component("c", "  metadata:\n    - name: a\n      secretKeyRef: {name: s, key: k}\n"),
		strings.Replace(subscriptionYAML, "dapr.io/v2alpha1", "dapr.io/v1alpha1", 1),
		"---\n# only a comment\n---\n",
		"kind: [Component\n",
		"apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata: [1]\n",
		"apiVersion: dapr.io/v1alpha1\nkind: Component\nspec:\n  metadata:\n    - value: &a [*a]\n",
		"a: &a [*a, *a]\nb: &b [*a, *a]\n",
		"\t- \x00\xff",
	} {
		f.Add([]byte(s))
	}
	lookup := env(map[string]string{"A": "a"})
	f.Fuzz(func(t *testing.T, data []byte) {
		set, err := Parse("fuzz.yaml", data, lookup)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.yaml: ") {
				t.Fatalf("got error %q, want it to start with the file name", err)
			}
			return
		}
		for _, c := range set.Components {
			if err := c.validate(); err != nil || c.File != "fuzz.yaml" {
				t.Fatalf("accepted component %+v: validate: %v", c, err)
			}
		}
		for _, s := range set.Subscriptions {
			if err := s.validate(); err != nil || len(s.Paths()) == 0 || s.File != "fuzz.yaml" {
				t.Fatalf("accepted subscription %+v: validate: %v", s, err)
			}
		}
		_ = set.Validate() // must not panic either
	})
}
