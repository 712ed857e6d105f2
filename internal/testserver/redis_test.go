package testserver

import "testing"

func TestRedisStartsAndKills(t *testing.T) {
	srv := StartRedis(t)
	if !redisPing(srv.Addr) {
		t.Fatalf("no PONG from %s: %s", srv.Addr, srv.Log())
	}
	srv.Kill()
	if redisPing(srv.Addr) {
		t.Fatal("server still answers after Kill")
	}
	srv.Stop() // no-op after Kill
}

func TestRedisWithPassword(t *testing.T) {
	srv := StartRedis(t, "--requirepass", "pw")
	if !redisPing(srv.Addr) {
		t.Fatalf("no answer from %s: %s", srv.Addr, srv.Log())
	}
}

func TestSharedRedisIsShared(t *testing.T) {
	// No TestMain here (other fixtures share this package): stop it ourselves.
	t.Cleanup(StopShared)
	a, b := SharedRedis(t), SharedRedis(t)
	if a != b {
		t.Fatalf("SharedRedis returned %s then %s", a, b)
	}
	if !redisPing(a) {
		t.Fatal("shared server does not answer")
	}
}

func TestFreePort(t *testing.T) {
	if p := FreePort(t); p <= 0 || p > 65535 {
		t.Fatalf("FreePort = %d", p)
	}
}
