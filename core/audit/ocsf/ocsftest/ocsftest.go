// Package ocsftest validates OCSF events against the required attributes,
// attribute types, activity enums and constraints of the OCSF 1.3.0 classes
// resetbot emits (schema-1.3.0.json, written from the OCSF schema).
package ocsftest

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"
)

//go:embed schema-1.3.0.json
var schemaJSON []byte

type object struct {
	Required   []string          `json:"required"`
	AtLeastOne []string          `json:"at_least_one"`
	Types      map[string]string `json:"types"`
}

type class struct {
	Name        string   `json:"name"`
	CategoryUID int      `json:"category_uid"`
	ActivityID  []int    `json:"activity_id"`
	Required    []string `json:"required"`
	AtLeastOne  []string `json:"at_least_one"`
}

type schema struct {
	Version string `json:"version"`
	Base    struct {
		object
		Enums map[string][]int `json:"enums"`
	} `json:"base"`
	Classes map[string]class  `json:"classes"`
	Objects map[string]object `json:"objects"`
}

var loaded = func() schema {
	var s schema
	if err := json.Unmarshal(schemaJSON, &s); err != nil {
		panic(err)
	}
	return s
}()

// Version is the OCSF version the fixture describes.
func Version() string { return loaded.Version }

// Validate checks one encoded OCSF event and returns every problem found.
func Validate(line []byte) []error {
	var ev map[string]any
	if err := json.Unmarshal(line, &ev); err != nil {
		return []error{fmt.Errorf("not a JSON object: %w", err)}
	}
	s := loaded
	var errs []error
	fail := func(f string, a ...any) { errs = append(errs, fmt.Errorf(f, a...)) }
	errs = append(errs, checkObject("event", ev, s.Base.object)...)
	cuid, _ := intOf(ev["class_uid"])
	c, ok := s.Classes[strconv.Itoa(cuid)]
	if !ok {
		fail("class_uid %v is not a class this fixture knows", ev["class_uid"])
		return errs
	}
	for _, r := range c.Required {
		if _, ok := ev[r]; !ok {
			fail("%s: required attribute %q missing", c.Name, r)
		}
	}
	if len(c.AtLeastOne) > 0 && !hasAny(ev, c.AtLeastOne) {
		fail("%s: needs at least one of %v", c.Name, c.AtLeastOne)
	}
	if cat, _ := intOf(ev["category_uid"]); cat != c.CategoryUID {
		fail("%s: category_uid %d, want %d", c.Name, cat, c.CategoryUID)
	}
	act, _ := intOf(ev["activity_id"])
	if !slices.Contains(c.ActivityID, act) {
		fail("%s: activity_id %d not in %v", c.Name, act, c.ActivityID)
	}
	if tu, _ := intOf(ev["type_uid"]); tu != cuid*100+act {
		fail("%s: type_uid %d, want class_uid*100+activity_id = %d", c.Name, tu, cuid*100+act)
	}
	for k, allowed := range s.Base.Enums {
		if v, ok := ev[k]; ok {
			if n, _ := intOf(v); !slices.Contains(allowed, n) {
				fail("%s %v not in %v", k, v, allowed)
			}
		}
	}
	return errs
}

func hasAny(m map[string]any, keys []string) bool {
	for _, k := range keys {
		if _, ok := m[k]; ok {
			return true
		}
	}
	return false
}

// checkObject checks required attributes and the types of known ones,
// recursing into typed sub-objects.
func checkObject(path string, m map[string]any, o object) []error {
	var errs []error
	for _, r := range o.Required {
		if _, ok := m[r]; !ok {
			errs = append(errs, fmt.Errorf("%s: required attribute %q missing", path, r))
		}
	}
	if len(o.AtLeastOne) > 0 && !hasAny(m, o.AtLeastOne) {
		errs = append(errs, fmt.Errorf("%s: needs at least one of %v", path, o.AtLeastOne))
	}
	for k, v := range m {
		t, ok := o.Types[k]
		if !ok {
			errs = append(errs, fmt.Errorf("%s.%s: attribute not in the fixture (add it, with its OCSF type)", path, k))
			continue
		}
		errs = append(errs, checkType(path+"."+k, v, t)...)
	}
	return errs
}

func checkType(path string, v any, t string) []error {
	bad := func() []error { return []error{fmt.Errorf("%s: %v is not of type %s", path, v, t)} }
	switch t {
	case "string":
		if _, ok := v.(string); !ok {
			return bad()
		}
	case "integer", "long", "timestamp":
		if _, ok := intOf(v); !ok {
			return bad()
		}
	case "boolean":
		if _, ok := v.(bool); !ok {
			return bad()
		}
	case "datetime":
		s, ok := v.(string)
		if !ok {
			return bad()
		}
		if _, err := time.Parse(time.RFC3339Nano, s); err != nil {
			return bad()
		}
	case "string_array":
		a, ok := v.([]any)
		if !ok {
			return bad()
		}
		for _, x := range a {
			if _, ok := x.(string); !ok {
				return bad()
			}
		}
	case "object":
		m, ok := v.(map[string]any)
		if !ok {
			return bad()
		}
		for _, x := range m {
			if _, ok := x.(string); !ok {
				return bad()
			}
		}
	default:
		m, ok := v.(map[string]any)
		if !ok {
			return bad()
		}
		o, known := loaded.Objects[t]
		if !known {
			return []error{fmt.Errorf("%s: object type %s not in the fixture", path, t)}
		}
		return checkObject(path, m, o)
	}
	return nil
}

func intOf(v any) (int, bool) {
	f, ok := v.(float64)
	if !ok || f != math.Trunc(f) {
		return 0, false
	}
	return int(f), true
}
