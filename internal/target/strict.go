package target

import (
	"encoding/json"
	"errors"
	"strings"

	kjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"
)

// decodeStrict decodes an environment file. Keys are checked the way
// Kubernetes checks manifests: YAML to JSON with duplicate keys refused
// (sigs.k8s.io/yaml), then case-sensitive JSON with unknown and duplicate
// fields refused (sigs.k8s.io/json), so "readonly" is not silently taken
// for readOnly. Values are then read by sigs.k8s.io/yaml against the types,
// so a bare 0.1 where text is wanted reads as "0.1" and the setting's own
// check says what it expects. The error names the first offending setting
// by its path (services[1].replicas); File is left for the caller.
func decodeStrict(data []byte) (*fileConfig, *ConfigError) {
	js, err := yaml.YAMLToJSONStrict(data)
	if err != nil {
		return nil, &ConfigError{Setting: "(yaml)", Problem: oneLine(strings.TrimPrefix(err.Error(), "error converting YAML to JSON: "))}
	}
	// A value of the wrong type is reported below, with the types applied.
	strict, _ := kjson.UnmarshalStrict(js, new(fileConfig))
	for _, e := range strict {
		var fe kjson.FieldError
		if !errors.As(e, &fe) {
			return nil, &ConfigError{Setting: "(yaml)", Problem: oneLine(e.Error())}
		}
		problem := "unknown key (check its spelling, case and indentation)"
		if strings.HasPrefix(e.Error(), "duplicate field") {
			problem = "given twice"
		}
		return nil, &ConfigError{Setting: fe.FieldPath(), Problem: problem}
	}
	var fc fileConfig
	if err := yaml.Unmarshal(data, &fc); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return nil, &ConfigError{Setting: te.Field, Problem: "want " + kindOf(te.Type.Kind().String()) + ", got " + te.Value}
		}
		return nil, &ConfigError{Setting: "(yaml)", Problem: oneLine(err.Error())}
	}
	return &fc, nil
}

// kindOf reads a Go kind as a setting's type.
func kindOf(kind string) string {
	switch kind {
	case "string":
		return "a string"
	case "bool":
		return "true or false"
	case "slice", "array":
		return "a list"
	case "map", "struct", "ptr":
		return "a mapping"
	}
	if strings.HasPrefix(kind, "int") || strings.HasPrefix(kind, "uint") || strings.HasPrefix(kind, "float") {
		return "a number"
	}
	return kind
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
