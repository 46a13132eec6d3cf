package funcbuild

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"

	"sigs.k8s.io/yaml"
)

// funcYAMLSchema is knative func v0.44.0's schema/func_yaml-schema.json
// (Apache License 2.0), as func itself validates func.yaml with it.
//
//go:embed funcyaml-schema.json
var funcYAMLSchema []byte

// schemaNode is the part of a JSON schema node the field check reads.
type schemaNode struct {
	Ref        string                `json:"$ref"`
	Properties map[string]schemaNode `json:"properties"`
	Items      *schemaNode           `json:"items"`
}

type schema struct {
	Ref         string                `json:"$ref"`
	Definitions map[string]schemaNode `json:"definitions"`
}

var loadSchema = sync.OnceValues(func() (schema, error) {
	var s schema
	err := json.Unmarshal(funcYAMLSchema, &s)
	return s, err
})

// unknownFields lists the keys of a func.yaml that func v0.44.0 does not
// know, as dotted paths (deploy.optoins, run.envs[0].vaule): func ignores
// them, so a misspelled setting silently does nothing.
func unknownFields(data []byte) []string {
	s, err := loadSchema()
	if err != nil {
		return nil // the embedded schema decodes; a test holds it
	}
	var doc any
	if yaml.Unmarshal(data, &doc) != nil {
		return nil // parseFuncYAML reports what does not decode
	}
	var out []string
	s.walk(s.resolve(schemaNode{Ref: s.Ref}), doc, "", &out)
	slices.Sort(out)
	return out
}

func (s schema) resolve(n schemaNode) schemaNode {
	for range 8 { // refs to refs, bounded
		name, ok := strings.CutPrefix(n.Ref, "#/definitions/")
		if !ok {
			return n
		}
		n = s.Definitions[name]
	}
	return n
}

func (s schema) walk(n schemaNode, v any, path string, out *[]string) {
	switch v := v.(type) {
	case map[string]any:
		if n.Properties == nil {
			return // a map of anything (annotations) or not an object
		}
		for k, child := range v {
			p := strings.TrimPrefix(path+"."+k, ".")
			prop, ok := n.Properties[k]
			if !ok {
				*out = append(*out, p)
				continue
			}
			s.walk(s.resolve(prop), child, p, out)
		}
	case []any:
		if n.Items == nil {
			return
		}
		item := s.resolve(*n.Items)
		for i, child := range v {
			s.walk(item, child, path+"["+strconv.Itoa(i)+"]", out)
		}
	}
}

// readCapped reads path unless it is larger than limit bytes.
func readCapped(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%s: larger than %d KiB: not a func.yaml (func writes one of about 1 KB)", path, limit>>10)
	}
	return data, nil
}
