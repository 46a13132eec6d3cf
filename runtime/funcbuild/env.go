package funcbuild

import (
	"fmt"
	"path/filepath"
	"regexp"
)

// Env is one entry of run.envs. Value may be the template "{{ env:VAR }}",
// which takes VAR from the host environment when the function starts (as
// `func deploy` does). Secret and ConfigMap references ("{{ secret:... }}",
// "{{ configMap:... }}") are valid func.yaml but exist only in a cluster.
type Env struct {
	Name  string
	Value string
}

var (
	envName = regexp.MustCompile(`^[-._a-zA-Z][-._a-zA-Z0-9]*$`)
	envRef  = regexp.MustCompile(`^{{\s*(\w+)\s*:(.*?)\s*}}$`)
	envVar  = regexp.MustCompile(`^\w+$`)
)

// Environ resolves run.envs into "NAME=value" pairs in func.yaml order.
// lookup reads the host environment for {{ env:VAR }} templates; a CLI passes
// os.LookupEnv. A template naming an unset variable, or a Secret or ConfigMap
// reference, is an error naming the file and field.
func (fn Function) Environ(lookup func(string) (string, bool)) ([]string, error) {
	env := make([]string, 0, len(fn.Envs))
	for i, e := range fn.Envs {
		v, err := e.resolve(lookup)
		if err != nil {
			return nil, fmt.Errorf("%s: run.envs[%d].value: %w", filepath.Join(fn.Dir, FuncYAML), i, err)
		}
		env = append(env, e.Name+"="+v)
	}
	return env, nil
}

func (e Env) resolve(lookup func(string) (string, bool)) (string, error) {
	m := envRef.FindStringSubmatch(e.Value)
	if m == nil {
		return e.Value, nil
	}
	if m[1] != "env" {
		return "", fmt.Errorf("%q: %s references are not available when running locally", e.Value, m[1])
	}
	v, ok := lookup(m[2])
	if !ok {
		return "", fmt.Errorf("required local environment variable %q is not set", m[2])
	}
	return v, nil
}

// validate checks the syntax of an entry; values are resolved by Environ.
func (e Env) validate() error {
	m := envRef.FindStringSubmatch(e.Value)
	switch {
	case m != nil && (m[1] == "secret" || m[1] == "configMap"):
		return nil // may import a whole Secret or ConfigMap, without a name
	case !envName.MatchString(e.Name):
		return fmt.Errorf("name: %q is not a valid environment variable name", e.Name)
	case m == nil:
		return nil // a literal value
	case m[1] != "env":
		return fmt.Errorf("value: %q: unknown source %q, want {{ env:VAR }}", e.Value, m[1])
	case !envVar.MatchString(m[2]):
		return fmt.Errorf("value: %q does not name a variable, want {{ env:VAR }}", e.Value)
	}
	return nil
}
