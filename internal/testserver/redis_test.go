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

func TestRedisCluster(t *testing.T) {
	addrs := RedisCluster(t, 3)
	for _, a := range addrs {
		info, err := redisCmd(a, "CLUSTER", "INFO")
		if err != nil || !containsAll(info, []string{"cluster_state:ok"}) {
			t.Fatalf("%s: %q, %v", a, info, err)
		}
	}
}

func TestRedisSentinel(t *testing.T) {
	s := RedisSentinel(t)
	info, err := redisCmd(s.Sentinel, "INFO", "sentinel")
	if err != nil || !containsAll(info, []string{"address=" + s.Primary.Addr}) {
		t.Fatalf("sentinel does not watch %s: %q, %v", s.Primary.Addr, info, err)
	}
}

func TestRedisTLS(t *testing.T) {
	srv := RedisTLS(t)
	if redisPing(srv.Addr) {
		t.Fatal("TLS-only server answered a plaintext PING")
	}
}
