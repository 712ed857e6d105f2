package app_test

import (
	"reflect"
	"testing"
	"time"

	"github.com/resetbot/resetbot/app"
	"github.com/resetbot/resetbot/core/config"
	"github.com/resetbot/resetbot/core/handoff/apikey"
	"github.com/resetbot/resetbot/core/secret"
)

// TestServerSettingsComplete: every server.* setting but public_url (the
// channels' and pages' business) and memory_limit (the process's, set by
// serve) reaches the listeners' settings under the same name, with its
// value. Each input field gets a distinct value, so a
// setting dropped or crossed with another fails.
func TestServerSettingsComplete(t *testing.T) {
	var in config.ServerConfig
	iv := reflect.ValueOf(&in).Elem()
	for i := range iv.NumField() {
		f := iv.Field(i)
		switch f.Kind() {
		case reflect.String:
			f.SetString(iv.Type().Field(i).Name)
		case reflect.Bool:
			f.SetBool(true)
		case reflect.Int, reflect.Int64:
			if f.Type() == reflect.TypeFor[time.Duration]() {
				f.SetInt(int64(i+1) * int64(time.Second))
			} else {
				f.SetInt(int64(i + 1))
			}
		default:
			t.Fatalf("server.%s: a %s setting this test cannot fill", iv.Type().Field(i).Name, f.Type())
		}
	}
	out := reflect.ValueOf(app.ServerSettings(in))
	for i := range iv.NumField() {
		name := iv.Type().Field(i).Name
		if name == "PublicURL" || name == "MemoryLimit" {
			continue
		}
		got := out.FieldByName(name)
		if !got.IsValid() {
			t.Errorf("server.%s has no field in server.Settings", name)
			continue
		}
		if !reflect.DeepEqual(got.Interface(), iv.Field(i).Interface()) {
			t.Errorf("server.%s = %v reaches the server as %v", name, iv.Field(i), got)
		}
	}
}

// TestAPIKeySettings: every handoff.api_keys setting reaches the key set,
// and every scope the configuration accepts is one the API knows (a key
// configured with it loads and holds it).
func TestAPIKeySettings(t *testing.T) {
	in := config.HandoffAPIKey{ID: "itsm", Hash: apikey.Hash(secret.New("rbk_k")),
		Scopes:     []string{config.ScopeHandoffsCreate, config.ScopeHandoffsRead, config.ScopeBansLift},
		OUs:        []string{"ou=people,dc=corp,dc=example"},
		WebhookURL: "https://itsm.example/hook", WebhookSecret: secret.New("hook-secret-hook-secret")}
	got := app.APIKeySettings([]config.HandoffAPIKey{in})
	want := []apikey.Setting{{ID: in.ID, Hash: in.Hash, Scopes: in.Scopes, OUs: in.OUs,
		WebhookURL: in.WebhookURL, WebhookSecret: in.WebhookSecret}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("mapped %+v, want %+v", got, want)
	}
	if n, m := reflect.TypeFor[config.HandoffAPIKey]().NumField(), reflect.TypeFor[apikey.Setting]().NumField(); n != m {
		t.Fatalf("handoff.api_keys[] has %d settings, apikey.Setting %d: map the new one", n, m)
	}
	set, err := apikey.Load(got)
	if err != nil {
		t.Fatal(err)
	}
	k, _ := set.Key("apikey:itsm")
	for _, s := range []apikey.Scope{apikey.ScopeCreate, apikey.ScopeRead, apikey.ScopeLift} {
		if !k.Has(s) {
			t.Errorf("a key configured with every scope lacks %s", s)
		}
	}
	if tg, ok := set.Target("apikey:itsm"); !ok || tg.URL != in.WebhookURL || tg.Secret.Reveal() != in.WebhookSecret.Reveal() {
		t.Errorf("webhook target %+v %v", tg, ok)
	}
	if !k.InScope("uid=a,ou=people,dc=corp,dc=example") || k.InScope("uid=a,ou=admins,dc=corp,dc=example") {
		t.Error("the key's OUs did not reach it")
	}
}
