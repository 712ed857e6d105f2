package redis_test

import (
	"context"
	"strconv"
	"strings"
	"testing"

	goredis "github.com/redis/go-redis/v9"

	"github.com/resetbot/resetbot/core/secret"
	"github.com/resetbot/resetbot/core/store"
	"github.com/resetbot/resetbot/core/store/redis"
	"github.com/resetbot/resetbot/core/store/storetest"
	"github.com/resetbot/resetbot/internal/testserver"
)

// TestLeastPrivilegeACL runs the conformance suite as an ACL user that may
// only run redis.ACLCommands on keys under its prefix, and checks that the
// user cannot run admin commands or touch other keys.
func TestLeastPrivilegeACL(t *testing.T) {
	const pw = "acl-user-password"
	rules := append([]string{"resetbot", "on", ">" + pw, "~resetbot:*", "resetchannels", "-@all"}, strings.Fields(redis.ACLCommands)...)
	srv := testserver.StartRedis(t, append([]string{"--user"}, rules...)...)
	var n int
	open := func(t *testing.T) *redis.Store {
		n++
		s, err := redis.Open(t.Context(), redis.Config{
			Addrs: []string{srv.Addr}, Username: "resetbot", Password: secret.New(pw),
			KeyPrefix: "resetbot:" + strconv.Itoa(n) + ":",
		})
		if err != nil {
			t.Fatalf("Open as ACL user: %v", err)
		}
		t.Cleanup(func() { _ = s.Close() })
		return s
	}
	storetest.Run(t, func(t *testing.T) store.Store { return open(t) })

	c := goredis.NewClient(&goredis.Options{Addr: srv.Addr, Username: "resetbot", Password: pw, DisableIdentity: true})
	defer c.Close()
	ctx := context.Background()
	denied := map[string]error{
		"CONFIG GET":      c.ConfigGet(ctx, "*").Err(),
		"FLUSHALL":        c.FlushAll(ctx).Err(),
		"KEYS":            c.Keys(ctx, "*").Err(),
		"other namespace": c.Set(ctx, "other:key", "x", 0).Err(),
	}
	for name, err := range denied {
		if err == nil || !strings.Contains(err.Error(), "NOPERM") {
			t.Errorf("%s as ACL user: err = %v, want NOPERM", name, err)
		}
	}
}
