package chatid_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/resetbot/resetbot/bot/chatid"
	"github.com/resetbot/resetbot/core/directory"
	"github.com/resetbot/resetbot/core/directory/memory"
)

// countingDir counts lookups and can fail.
type countingDir struct {
	d     chatid.Finder
	calls int
	err   error
}

func (c *countingDir) Find(ctx context.Context, k directory.Key, v string) ([]directory.User, error) {
	c.calls++
	if c.err != nil {
		return nil, c.err
	}
	return c.d.Find(ctx, k, v)
}

func testDir() *memory.Directory {
	u := func(login, mail, emp string) memory.Account {
		return memory.Account{User: directory.User{ID: "uid=" + login, Login: login, Email: mail, EmployeeNumber: emp}}
	}
	// Two accounts share a mailbox: it names neither.
	return memory.New(u("amartin", "alice.martin@corp.example", "oid-1"), u("bnguyen", "shared@corp.example", "10057"),
		u("bnguyen2", "shared@corp.example", "10058"))
}

// TestHints: a confirmed value that names exactly one account maps to its
// login; unconfirmed, foreign-domain, unknown and ambiguous values map to
// nothing.
func TestHints(t *testing.T) {
	email := chatid.Mapping{}
	prefix := chatid.Mapping{From: chatid.FromEmail, To: chatid.ToLoginPrefix, Domains: []string{"corp.example"}}
	oid := chatid.Mapping{From: chatid.FromObjectID, To: chatid.ToEmployeeNumber}
	for _, tc := range []struct {
		name  string
		m     chatid.Mapping
		teams bool
		id    chatid.Identity
		want  string
	}{
		{"confirmed email", email, false, chatid.Identity{Email: "Alice.Martin@corp.example", EmailConfirmed: true}, "amartin"},
		{"unconfirmed email", email, false, chatid.Identity{Email: "alice.martin@corp.example"}, ""},
		{"unknown email", email, false, chatid.Identity{Email: "nobody@corp.example", EmailConfirmed: true}, ""},
		{"ambiguous email", email, false, chatid.Identity{Email: "shared@corp.example", EmailConfirmed: true}, ""},
		{"login prefix", prefix, false, chatid.Identity{Email: "amartin@corp.example", EmailConfirmed: true}, "amartin"},
		{"login prefix other domain", prefix, false, chatid.Identity{Email: "amartin@partner.example", EmailConfirmed: true}, ""},
		{"teams upn to login", chatid.Mapping{From: chatid.FromUPN}, true, chatid.Identity{UPN: "amartin"}, "amartin"},
		{"teams upn unknown", chatid.Mapping{}, true, chatid.Identity{UPN: "zz@corp.example"}, ""},
		{"teams object id", oid, true, chatid.Identity{ObjectID: "oid-1"}, "amartin"},
		{"control characters", email, false, chatid.Identity{Email: "alice.martin@corp.example\x00", EmailConfirmed: true}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := chatid.New(tc.m, testDir(), nil)
			h, err := p.Hints(context.Background(), tc.id)
			if err != nil {
				t.Fatal(err)
			}
			if h.Login != tc.want || h.Email != "" || h.Phone != "" {
				t.Fatalf("hints %+v, want login %q only", h, tc.want)
			}
		})
	}
}

// TestOffAndCache: off maps nothing and asks nothing; a mapping is looked up
// once per TTL; a directory failure is reported and not cached.
func TestOffAndCache(t *testing.T) {
	d := &countingDir{d: testDir()}
	if p := chatid.New(chatid.Mapping{From: chatid.FromOff}, d, nil); p != nil {
		t.Fatal("off must give no mapper")
	}
	var nilMapper *chatid.Mapper
	if h, err := nilMapper.Hints(context.Background(), chatid.Identity{Email: "a@b", EmailConfirmed: true}); err != nil || h.Login != "" {
		t.Fatalf("nil mapper: %+v %v", h, err)
	}
	now := time.Unix(1000, 0)
	p := chatid.New(chatid.Mapping{}, d, func() time.Time { return now })
	id := chatid.Identity{Email: "alice.martin@corp.example", EmailConfirmed: true}
	for range 3 {
		if h, _ := p.Hints(context.Background(), id); h.Login != "amartin" {
			t.Fatalf("hints %+v", h)
		}
	}
	if d.calls != 1 {
		t.Fatalf("%d lookups, want 1 within the TTL", d.calls)
	}
	now = now.Add(11 * time.Minute)
	d.err = directory.ErrUnavailable
	if h, err := p.Hints(context.Background(), id); !errors.Is(err, directory.ErrUnavailable) || h.Login != "" {
		t.Fatalf("failure: %+v %v", h, err)
	}
	d.err = nil
	if h, _ := p.Hints(context.Background(), id); h.Login != "amartin" || d.calls != 3 {
		t.Fatalf("after a failure: %+v, %d lookups", h, d.calls)
	}
}

// TestSameWorkUnmapped: an address that names no account and one that
// names several cost the same one lookup as one that maps, so the mapping
// step takes the same time whatever the directory holds (the flows equalize
// the rest of the start, see flows' identify).
func TestSameWorkUnmapped(t *testing.T) {
	for _, email := range []string{"alice.martin@corp.example", "nobody@corp.example", "shared@corp.example"} {
		d := &countingDir{d: testDir()}
		p := chatid.New(chatid.Mapping{}, d, nil)
		if _, err := p.Hints(context.Background(), chatid.Identity{Email: email, EmailConfirmed: true}); err != nil {
			t.Fatal(err)
		}
		if d.calls != 1 {
			t.Errorf("%s: %d lookups, want 1", email, d.calls)
		}
	}
}

// checker records the problems a mapping reports.
type checker struct{ paths []string }

func (c *checker) Errorf(path, _ string, _ ...any) { c.paths = append(c.paths, path) }
func (c *checker) Warnf(path, _ string, _ ...any)  { c.paths = append(c.paths, path) }
func (c *checker) Given(string) bool               { return false }
func (c *checker) Production() bool                { return true }
func (c *checker) FileExists(string, string)       {}

// TestMappingValidation: each platform accepts only the sources it has,
// login_prefix needs its domains, an object ID matches only an attribute
// holding it, and off turns the mapping off.
func TestMappingValidation(t *testing.T) {
	teams := append(slices.Clone(chatid.ChatSources), chatid.FromUPN, chatid.FromObjectID)
	for _, tc := range []struct {
		name    string
		m       chatid.Mapping
		sources []string
		want    string
	}{
		{"defaults", chatid.Mapping{}, chatid.ChatSources, ""},
		{"off", chatid.Mapping{From: chatid.FromOff, To: "bogus"}, chatid.ChatSources, ""},
		{"login prefix", chatid.Mapping{To: chatid.ToLoginPrefix, Domains: []string{"corp.example"}}, chatid.ChatSources, ""},
		{"login prefix without domains", chatid.Mapping{To: chatid.ToLoginPrefix}, chatid.ChatSources, "m.domains"},
		{"bad domain", chatid.Mapping{To: chatid.ToLoginPrefix, Domains: []string{"@corp"}}, chatid.ChatSources, "m.domains[0]"},
		{"upn is Teams only", chatid.Mapping{From: chatid.FromUPN}, chatid.ChatSources, "m.from"},
		{"unknown target", chatid.Mapping{To: "telephoneNumber"}, chatid.ChatSources, "m.to"},
		{"teams upn", chatid.Mapping{From: chatid.FromUPN}, teams, ""},
		{"object id to employee number", chatid.Mapping{From: chatid.FromObjectID, To: chatid.ToEmployeeNumber}, teams, ""},
		{"object id to email", chatid.Mapping{From: chatid.FromObjectID, To: chatid.ToEmail}, teams, "m.to"},
		{"unknown source", chatid.Mapping{From: "phone"}, teams, "m.from"},
	} {
		c := &checker{}
		tc.m.Validate(c, "m", tc.sources)
		if got := strings.Join(c.paths, ","); got != tc.want {
			t.Errorf("%s: problems at %q, want %q", tc.name, got, tc.want)
		}
	}
	for _, tc := range []struct {
		in       chatid.Mapping
		from, to string
	}{
		{chatid.Mapping{}, chatid.FromEmail, chatid.ToEmail},
		{chatid.Mapping{From: chatid.FromUPN}, chatid.FromUPN, chatid.ToLogin},
		{chatid.Mapping{From: chatid.FromEmail}, chatid.FromEmail, chatid.ToEmail},
	} {
		if got := tc.in.WithDefaults(); got.From != tc.from || got.To != tc.to {
			t.Errorf("WithDefaults(%+v) = %+v, want %s -> %s", tc.in, got, tc.from, tc.to)
		}
	}
}
