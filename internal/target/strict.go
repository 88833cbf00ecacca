package target

import (
	"fmt"
	"reflect"
	"sort"
	"strings"
)

// unknownKey finds the first key in doc that fileConfig does not have,
// spelled exactly. encoding/json alone matches keys case-insensitively, so
// "readonly" would silently set readOnly; an operator's typo must fail.
func unknownKey(doc any, t reflect.Type, path string) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch v := doc.(type) {
	case map[string]any:
		if t.Kind() == reflect.Map {
			for _, k := range sortedKeys(v) {
				if bad := unknownKey(v[k], t.Elem(), join(path, k)); bad != "" {
					return bad
				}
			}
			return ""
		}
		if t.Kind() != reflect.Struct {
			return ""
		}
		fields := map[string]reflect.Type{}
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if name, _, _ := strings.Cut(f.Tag.Get("json"), ","); name != "" && name != "-" {
				fields[name] = f.Type
			}
		}
		for _, k := range sortedKeys(v) {
			ft, ok := fields[k]
			if !ok {
				return join(path, k)
			}
			if bad := unknownKey(v[k], ft, join(path, k)); bad != "" {
				return bad
			}
		}
	case []any:
		if t.Kind() == reflect.Slice {
			for i, e := range v {
				if bad := unknownKey(e, t.Elem(), fmt.Sprintf("%s[%d]", path, i)); bad != "" {
					return bad
				}
			}
		}
	}
	return ""
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
