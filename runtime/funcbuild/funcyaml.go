package funcbuild

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"

	"sigs.k8s.io/yaml"
)

// FuncYAML is the name of the file that marks a function's root folder.
const FuncYAML = "func.yaml"

// Invocation formats a function accepts, as written in func.yaml's invoke.
const (
	InvokeCloudEvent = "cloudevent"
	InvokeHTTP       = "http"
)

// Function is a Knative Function found on disk: the parts of its func.yaml
// (knative func v0.44.0 format) that matter for running it.
type Function struct {
	Name    string // DNS-1035 label
	Dir     string // absolute path of the folder holding func.yaml
	Runtime string // always "go"
	Invoke  string // InvokeCloudEvent or InvokeHTTP

	// Envs are run.envs as written; see Function.Environ.
	Envs []Env
	// Annotations are deploy.annotations.
	Annotations map[string]string
	// MinScale and MaxScale are deploy.options.scale.min and max; 0 means
	// unset (scale to zero, and no upper bound).
	MinScale, MaxScale int64
	// Concurrency is deploy.options.resources.limits.concurrency; 0 means
	// unlimited.
	Concurrency int64
	// UnknownFields are keys func v0.44.0 does not know (dotted paths):
	// func ignores them, so callers warn about them.
	UnknownFields []string
}

// MaxFuncYAMLBytes bounds a func.yaml: func writes one of about 1 KB.
const MaxFuncYAMLBytes = 256 << 10

// funcYAML mirrors the subset of func.yaml we read. Other fields are
// tolerated and ignored.
type funcYAML struct {
	Name    string `json:"name"`
	Runtime string `json:"runtime"`
	Invoke  string `json:"invoke"`
	Run     struct {
		Envs []struct {
			Name  *string `json:"name"`
			Value *string `json:"value"`
		} `json:"envs"`
	} `json:"run"`
	Deploy struct {
		Annotations map[string]string `json:"annotations"`
		Options     struct {
			Scale struct {
				Min *int64 `json:"min"`
				Max *int64 `json:"max"`
			} `json:"scale"`
			Resources struct {
				Limits struct {
					Concurrency *int64 `json:"concurrency"`
				} `json:"limits"`
			} `json:"resources"`
		} `json:"options"`
	} `json:"deploy"`
}

var dns1035 = regexp.MustCompile(`^[a-z]([-a-z0-9]*[a-z0-9])?$`)

// Discover loads every function in the direct subfolders of dir, that is
// every dir/*/func.yaml, sorted by folder. Names must be unique.
func Discover(dir string) ([]Function, error) {
	if _, err := os.Stat(dir); err != nil {
		return nil, fmt.Errorf("discover functions: %w", err)
	}
	paths, err := filepath.Glob(filepath.Join(dir, "*", FuncYAML))
	if err != nil {
		return nil, fmt.Errorf("discover functions in %s: %w", dir, err)
	}
	slices.Sort(paths)
	var fns []Function
	var errs []error
	seen := map[string]string{}
	for _, p := range paths {
		fn, err := Load(filepath.Dir(p))
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if other, dup := seen[fn.Name]; dup {
			errs = append(errs, fmt.Errorf("%s: name: %q is also the name of %s", p, fn.Name, other))
			continue
		}
		seen[fn.Name] = p
		fns = append(fns, fn)
	}
	return fns, errors.Join(errs...)
}

// Load reads the function whose func.yaml is in dir.
func Load(dir string) (Function, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return Function{}, fmt.Errorf("load function %s: %w", dir, err)
	}
	path := filepath.Join(abs, FuncYAML)
	data, err := readCapped(path, MaxFuncYAMLBytes)
	if err != nil {
		return Function{}, fmt.Errorf("load function: %w", err)
	}
	fn, err := parseFuncYAML(data)
	if err != nil {
		return Function{}, fmt.Errorf("%s: %w", path, err)
	}
	fn.Dir = abs
	return fn, nil
}

// parseFuncYAML decodes and validates a func.yaml. Errors name the field.
func parseFuncYAML(data []byte) (Function, error) {
	var y funcYAML
	if err := yaml.Unmarshal(data, &y); err != nil {
		return Function{}, err
	}
	fn := Function{
		UnknownFields: unknownFields(data),
		Name:          y.Name,
		Runtime:       y.Runtime,
		Invoke:        y.Invoke,
		Annotations:   y.Deploy.Annotations,
		MinScale:      deref(y.Deploy.Options.Scale.Min),
		MaxScale:      deref(y.Deploy.Options.Scale.Max),
		Concurrency:   deref(y.Deploy.Options.Resources.Limits.Concurrency),
	}
	if fn.Invoke == "" {
		fn.Invoke = InvokeHTTP // func's default
	}
	for _, e := range y.Run.Envs {
		fn.Envs = append(fn.Envs, Env{Name: deref(e.Name), Value: deref(e.Value)})
	}
	return fn, fn.validate()
}

func (fn Function) validate() error {
	switch {
	case fn.Name == "":
		return errors.New("name: missing")
	case len(fn.Name) > 63 || !dns1035.MatchString(fn.Name):
		return fmt.Errorf("name: %q is not a DNS-1035 label (lowercase letters, digits and '-', starting with a letter, at most 63 characters)", fn.Name)
	case fn.Runtime != "go":
		return fmt.Errorf("runtime: %q is not supported (only \"go\")", fn.Runtime)
	case fn.Invoke != InvokeCloudEvent && fn.Invoke != InvokeHTTP:
		return fmt.Errorf("invoke: %q is not %q or %q", fn.Invoke, InvokeCloudEvent, InvokeHTTP)
	case fn.MinScale < 0:
		return fmt.Errorf("deploy.options.scale.min: %d is negative", fn.MinScale)
	case fn.MaxScale < 0:
		return fmt.Errorf("deploy.options.scale.max: %d is negative", fn.MaxScale)
	case fn.MaxScale > 0 && fn.MinScale > fn.MaxScale:
		return fmt.Errorf("deploy.options.scale.min: %d is greater than max %d", fn.MinScale, fn.MaxScale)
	case fn.Concurrency < 0:
		return fmt.Errorf("deploy.options.resources.limits.concurrency: %d is negative", fn.Concurrency)
	}
	for i, e := range fn.Envs {
		if err := e.validate(); err != nil {
			return fmt.Errorf("run.envs[%d]: %w", i, err)
		}
	}
	return nil
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}
