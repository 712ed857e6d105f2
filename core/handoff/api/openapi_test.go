package api_test

import (
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/resetbot/resetbot/core/handoff/api"
)

const specPath = "../../../api/openapi.yaml"

type spec struct {
	OpenAPI    string                               `yaml:"openapi"`
	Paths      map[string]map[string]map[string]any `yaml:"paths"`
	Components struct {
		Schemas         map[string]any `yaml:"schemas"`
		SecuritySchemes map[string]any `yaml:"securitySchemes"`
	} `yaml:"components"`
}

func loadSpec(t *testing.T) (spec, []byte) {
	t.Helper()
	raw, err := os.ReadFile(specPath)
	if err != nil {
		t.Fatal(err)
	}
	var s spec
	if err := yaml.Unmarshal(raw, &s); err != nil {
		t.Fatalf("api/openapi.yaml: %v", err)
	}
	return s, raw
}

// TestOpenAPIMatchesRoutes: every route the Handler serves is documented and
// every documented operation is served.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	s, _ := loadSpec(t)
	if !strings.HasPrefix(s.OpenAPI, "3.0") {
		t.Fatalf("openapi %q, want 3.0.x", s.OpenAPI)
	}
	var documented []api.Route
	for path, ops := range s.Paths {
		for m := range ops {
			if m == "parameters" {
				continue
			}
			documented = append(documented, api.Route{Method: strings.ToUpper(m), Path: path})
		}
	}
	served := api.Routes()
	for _, r := range served {
		if !slices.Contains(documented, r) {
			t.Errorf("%s %s is served but not documented", r.Method, r.Path)
		}
	}
	for _, r := range documented {
		if !slices.Contains(served, r) {
			t.Errorf("%s %s is documented but not served", r.Method, r.Path)
		}
	}
	// Routes() must be what the Handler really serves: an unauthenticated
	// request reaches the guard (401), not the mux's 404/405.
	e := newEnv(t, 60)
	for _, r := range served {
		w := e.do(t, req{method: r.Method, path: strings.ReplaceAll(r.Path, "{id}", "AAAAAAAAAAAAAAAAAAAAAA")})
		if w.Code != http.StatusUnauthorized {
			t.Errorf("%s %s: %d, want 401 from the guard", r.Method, r.Path, w.Code)
		}
	}
	for _, op := range []string{"401", "403", "429"} {
		for path, ops := range s.Paths {
			for m, o := range ops {
				if resp, _ := o["responses"].(map[string]any); resp[op] == nil {
					t.Errorf("%s %s does not document %s", m, path, op)
				}
			}
		}
	}
	for _, name := range []string{"Completion", "EscalationPacket", "Error", "Handoff", "CreateRequest"} {
		if s.Components.Schemas[name] == nil {
			t.Errorf("schema %s missing", name)
		}
	}
	if s.Components.SecuritySchemes["apiKey"] == nil {
		t.Error("security scheme missing")
	}
}

// TestOpenAPINoSecretFields: no schema has a property that could carry a
// password, code, answer or key.
func TestOpenAPINoSecretFields(t *testing.T) {
	s, _ := loadSpec(t)
	banned := []string{"password", "code", "secret", "answer", "passphrase", "otp", "token", "key", "seed"}
	var walk func(path string, n any)
	walk = func(path string, n any) {
		switch v := n.(type) {
		case map[string]any:
			if props, ok := v["properties"].(map[string]any); ok {
				for name := range props {
					for _, b := range banned {
						if strings.Contains(strings.ToLower(name), b) {
							t.Errorf("%s has a property %q", path, name)
						}
					}
				}
			}
			for k, c := range v {
				walk(path+"."+k, c)
			}
		case []any:
			for _, c := range v {
				walk(path, c)
			}
		}
	}
	walk("components.schemas", s.Components.Schemas)
}
