package apikey_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/resetbot/resetbot/core/config"
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

func TestFromConfigLookupTarget(t *testing.T) {
	raw := secret.New("rbk_first-key-value-0123456789")
	second := secret.New("rbk_second-key-value-0123456789")
	set, err := apikey.FromConfig(config.HandoffConfig{APIKeys: []config.HandoffAPIKey{
		{ID: "itsm", Hash: apikey.Hash(raw), Scopes: []string{"handoffs:create"},
			WebhookURL: "https://itsm.example/hook", WebhookSecret: secret.New("s3cret-s3cret-s3cret")},
		{ID: "jira", Hash: apikey.Hash(second), Scopes: []string{"handoffs:read"}},
	}})
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
	if _, err := apikey.FromConfig(config.HandoffConfig{APIKeys: []config.HandoffAPIKey{{ID: "x", Hash: "plain-key"}}}); err == nil ||
		strings.Contains(err.Error(), "plain-key") {
		t.Fatalf("bad hash: %v", err)
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
