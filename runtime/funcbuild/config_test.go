package funcbuild

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestConfigWithDefaults(t *testing.T) {
	cache, err := os.UserCacheDir()
	if err != nil {
		t.Fatal(err)
	}
	set := Config{CacheDir: "/c", Go: "/usr/bin/go", Environ: []string{}, BuildJobs: 4}
	tests := []struct {
		name     string
		in, want Config
	}{
		{"defaults", Config{}, Config{
			CacheDir:  filepath.Join(cache, "funcd", "builds"),
			Go:        "go",
			Environ:   os.Environ(),
			BuildJobs: 2,
		}},
		{"keeps values", set, set},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.in.withDefaults()
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestConfigValidate(t *testing.T) {
	want := "BuildJobs: -1 is negative"
	if err := (Config{BuildJobs: -1}).Validate(); err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("got error %v, want one containing %q", err, want)
	}
}
