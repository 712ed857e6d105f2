package apikey_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/resetbot/resetbot/core/handoff/apikey"
	"github.com/resetbot/resetbot/core/secret"
)

func TestGenerateAndHash(t *testing.T) {
	k, err := apikey.Generate(bytes.NewReader(bytes.Repeat([]byte{7}, 32)))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(k.Reveal(), apikey.KeyPrefix) || k.Len() != len(apikey.KeyPrefix)+43 {
		t.Fatalf("key shape %d", k.Len())
	}
	// echo -n abc | sha256sum
	if got := apikey.Hash(secret.New("abc")); got != "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" {
		t.Fatalf("Hash = %s", got)
	}
	for _, bad := range []string{"", "abc", "sha256:zz", "md5:" + strings.Repeat("0", 64), "sha256:" + strings.Repeat("0", 62)} {
		if _, err := apikey.ParseHash(bad); err == nil {
			t.Errorf("ParseHash(%q) accepted", bad)
		}
	}
}

func TestLoadLookupTarget(t *testing.T) {
	raw := secret.New("rbk_first-key-value-0123456789")
	second := secret.New("rbk_second-key-value-0123456789")
	set, err := apikey.Load([]apikey.Setting{
		{ID: "itsm", Hash: apikey.Hash(raw), Scopes: []string{"handoffs:create"},
			WebhookURL: "https://itsm.example/hook", WebhookSecret: secret.New("s3cret-s3cret-s3cret")},
		{ID: "jira", Hash: apikey.Hash(second), Scopes: []string{"handoffs:read"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		key  secret.String
		id   string
	}{
		{"first", raw, "itsm"},
		{"second", second, "jira"},
		{"unknown", secret.New("rbk_nope"), ""},
		{"empty", secret.String{}, ""},
		{"hash itself is not a key", secret.New(apikey.Hash(raw)), ""},
		{"huge", secret.New(strings.Repeat("x", 10000)), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, ok := set.Lookup(tt.key)
			if ok != (tt.id != "") || k.ID != tt.id {
				t.Fatalf("Lookup = %q %v", k.ID, ok)
			}
		})
	}
	k, _ := set.Lookup(raw)
	if !k.Has(apikey.ScopeCreate) || k.Has(apikey.ScopeRead) || k.Requester() != "apikey:itsm" {
		t.Fatalf("key %+v", k)
	}
	if tg, ok := set.Target("apikey:itsm"); !ok || tg.URL != "https://itsm.example/hook" || tg.Name != "apikey:itsm" {
		t.Fatalf("target %+v %v", tg, ok)
	}
	for _, r := range []string{"apikey:jira", "agent:slack:U1", "itsm", "apikey:nope"} {
		if _, ok := set.Target(r); ok {
			t.Errorf("Target(%q) found", r)
		}
	}
	if _, err := apikey.Load([]apikey.Setting{{ID: "x", Hash: "plain-key"}}); err == nil ||
		strings.Contains(err.Error(), "plain-key") {
		t.Fatalf("bad hash: %v", err)
	}
	if _, err := apikey.Load([]apikey.Setting{{ID: "x", Hash: apikey.Hash(raw), Scopes: []string{"handoffs:delete"}}}); err == nil ||
		!strings.Contains(err.Error(), "scopes[0]") {
		t.Fatalf("unknown scope: %v", err)
	}
}

func BenchmarkLookup(b *testing.B) {
	var keys []apikey.Key
	for i := range 20 {
		h, _ := apikey.ParseHash(apikey.Hash(secret.New(strings.Repeat("k", i+20))))
		keys = append(keys, apikey.Key{ID: "k", Hash: h})
	}
	set := apikey.New(keys...)
	k := secret.New(strings.Repeat("k", 39))
	for b.Loop() {
		set.Lookup(k)
	}
}

// TestKeyScope: a key hands over only accounts inside its OUs, compared as
// LDAP compares DNs (case-insensitively, RDN by RDN, never as a string
// suffix), and Key finds a key by its requester.
func TestKeyScope(t *testing.T) {
	set, err := apikey.Load([]apikey.Setting{
		{ID: "people", Hash: apikey.Hash(secret.New("k1")), Scopes: []string{string(apikey.ScopeCreate)},
			OUs: []string{"ou=People,dc=corp,dc=example", "OU=Contractors, DC=corp, DC=example"}},
		{ID: "any", Hash: apikey.Hash(secret.New("k2")), Scopes: []string{string(apikey.ScopeCreate)}},
	})
	if err != nil {
		t.Fatal(err)
	}
	k, ok := set.Key("apikey:people")
	if !ok {
		t.Fatal("key not found by requester")
	}
	for dn, want := range map[string]bool{
		"uid=amartin,ou=people,dc=corp,dc=example":               true,
		"CN=Bao Nguyen,OU=Sales,OU=People,DC=corp,DC=example":    true,
		"cn=x,ou=contractors,dc=corp,dc=example":                 true,
		"uid=eadmin,ou=admins,dc=corp,dc=example":                false,
		"uid=x,ou=people2,dc=corp,dc=example":                    false,
		"uid=x,ou=people,dc=corp,dc=example,dc=evil":             false,
		"ou=people,dc=corp,dc=example":                           false, // the OU itself is no account in it
		"not a dn":                                               false,
		"uid=x\\,ou=people,dc=corp,dc=example,ou=people2,dc=org": false,
	} {
		if got := k.InScope(dn); got != want {
			t.Errorf("InScope(%q) = %v, want %v", dn, got, want)
		}
	}
	if any, _ := set.Key("apikey:any"); !any.InScope("uid=x,ou=anything,dc=org") {
		t.Error("a key without OUs (demo) must not be scoped")
	}
	if _, ok := set.Key("agent:slack:U1"); ok {
		t.Error("an agent requester matched a key")
	}
	if _, err := apikey.Load([]apikey.Setting{
		{ID: "bad", Hash: apikey.Hash(secret.New("k3")), OUs: []string{"=,="}}}); err == nil {
		t.Error("a malformed OU was accepted")
	}
}
