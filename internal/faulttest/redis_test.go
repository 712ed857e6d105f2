package faulttest

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/resetbot/resetbot/internal/procrig"
	"github.com/resetbot/resetbot/internal/testserver"
)

// outage is how long Redis stays hung or down.
const outage = 20 * time.Second

// redisProc is a redis-server on a fixed port with an append-only file, so
// that it can be stopped and started again with its data, as an operator's
// restart would.
type redisProc struct {
	t     testing.TB
	addr  string
	dir   string
	extra []string
	cmd   *exec.Cmd
	done  chan struct{}
}

func startRedisProc(t testing.TB, port int, dir string, extra ...string) *redisProc {
	t.Helper()
	r := &redisProc{t: t, addr: "127.0.0.1:" + strconv.Itoa(port), dir: dir, extra: extra}
	r.start()
	t.Cleanup(func() { r.kill() })
	return r
}

func (r *redisProc) start() {
	r.t.Helper()
	args := append([]string{"--port", r.addr[len("127.0.0.1:"):], "--bind", "127.0.0.1", "--dir", r.dir,
		"--appendonly", "yes", "--appendfsync", "always", "--save", ""}, r.extra...)
	r.cmd = exec.Command("redis-server", args...)
	r.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := r.cmd.Start(); err != nil {
		r.t.Fatalf("redis-server: %v", err)
	}
	r.done = make(chan struct{})
	go func(c *exec.Cmd, d chan struct{}) { _ = c.Wait(); close(d) }(r.cmd, r.done)
	rdb := redis.NewClient(&redis.Options{Addr: r.addr})
	defer rdb.Close()
	deadline := time.Now().Add(10 * time.Second)
	for rdb.Ping(context.Background()).Err() != nil {
		if time.Now().After(deadline) {
			r.t.Fatalf("redis-server on %s not ready", r.addr)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (r *redisProc) signal(sig syscall.Signal) { _ = r.cmd.Process.Signal(sig) }

func (r *redisProc) kill() {
	_ = r.cmd.Process.Kill()
	<-r.done
}

// stop is SIGTERM and a wait for the exit (Redis flushes its AOF).
func (r *redisProc) stop() {
	r.signal(syscall.SIGTERM)
	select {
	case <-r.done:
	case <-time.After(10 * time.Second):
		r.kill()
	}
}

// traffic keeps conversations going while fault runs, and one more round
// after it returns: a phone reset per user (one at a time each, so the SMS
// to a mobile belong to one call) and four Slack conversations at once,
// alternating replicas.
func traffic(e *env, tl *tally, tag string, fault func()) {
	var stop atomic.Bool
	var wg sync.WaitGroup
	for i, u := range users {
		wg.Go(func() {
			for n := 0; !stop.Load(); n++ {
				e.call(tl, u, fmt.Sprintf("%s%dx%d", tag, i, n), alternate, nil)
				time.Sleep(200 * time.Millisecond) // a caller who failed calls back, not at once
			}
		})
	}
	for i := range 4 {
		wg.Go(func() {
			for n := 0; !stop.Load(); n++ {
				e.chat(tl, users[i%len(users)], fmt.Sprintf("%s%dx%d", tag, i, n), alternate, nil)
				time.Sleep(200 * time.Millisecond)
			}
		})
	}
	fault()
	time.Sleep(300 * time.Millisecond)
	stop.Store(true)
	wg.Wait()
}

// TestRedisOutage: Redis hangs (SIGSTOP) for 20 s, then is stopped
// (SIGTERM) for 20 s and started again with its data, while conversations
// run on two replicas. Slack must be told 503 (so it redelivers) rather than
// acknowledged and answered with an error; calls must be held and resumed.
func TestRedisOutage(t *testing.T) {
	dir := t.TempDir()
	rp := startRedisProc(t, testserver.FreePort(t), dir)
	e := newEnv(t, procrig.Backends{Redis: rp.addr}, procrig.Options{}, 2)
	t.Run("SIGSTOP", func(t *testing.T) {
		tl := &tally{}
		traffic(e, tl, "stop", func() {
			time.Sleep(400 * time.Millisecond)
			rp.signal(syscall.SIGSTOP)
			time.Sleep(outage)
			rp.signal(syscall.SIGCONT)
		})
		tl.report(t, "Redis SIGSTOP for 20 s")
	})
	t.Run("SIGTERM", func(t *testing.T) {
		tl := &tally{}
		traffic(e, tl, "term", func() {
			time.Sleep(400 * time.Millisecond)
			rp.stop()
			time.Sleep(outage)
			rp.start()
		})
		tl.report(t, "Redis SIGTERM, down 20 s, restarted")
	})
}

// sentinelSet is 1 master, 1 replica and 3 sentinels (quorum 2).
type sentinelSet struct {
	master, replica *redisProc
	sentinels       []string
	name            string
}

func startSentinels(t *testing.T) *sentinelSet {
	t.Helper()
	const name = "faultmaster"
	fast := []string{"--repl-diskless-sync", "yes", "--repl-diskless-sync-delay", "0"}
	m := startRedisProc(t, testserver.FreePort(t), t.TempDir(), fast...)
	_, mport, _ := net.SplitHostPort(m.addr)
	r := startRedisProc(t, testserver.FreePort(t), t.TempDir(), append(fast, "--replicaof", "127.0.0.1", mport)...)
	s := &sentinelSet{master: m, replica: r, name: name}
	for range 3 {
		dir := t.TempDir()
		port := testserver.FreePort(t)
		conf := filepath.Join(dir, "sentinel.conf")
		body := fmt.Sprintf("port %d\nbind 127.0.0.1\ndir %s\nsentinel monitor %s 127.0.0.1 %s 2\n"+
			"sentinel down-after-milliseconds %s 1000\nsentinel failover-timeout %s 10000\n"+
			"sentinel parallel-syncs %s 1\n", port, dir, name, mport, name, name, name)
		if err := writeFile(conf, body); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command("redis-server", conf, "--sentinel")
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
		s.sentinels = append(s.sentinels, "127.0.0.1:"+strconv.Itoa(port))
	}
	// Wait until every sentinel knows the replica and the other sentinels.
	deadline := time.Now().Add(20 * time.Second)
	for _, a := range s.sentinels {
		c := redis.NewSentinelClient(&redis.Options{Addr: a})
		for {
			reps, err1 := c.Replicas(context.Background(), name).Result()
			sens, err2 := c.Sentinels(context.Background(), name).Result()
			if err1 == nil && err2 == nil && len(reps) == 1 && len(sens) == 2 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("sentinel %s never saw the topology", a)
			}
			time.Sleep(100 * time.Millisecond)
		}
		_ = c.Close()
	}
	return s
}

// TestSentinelFailover: conversations run on two replicas over Sentinel
// while an operator runs SENTINEL FAILOVER, and then while the new master is
// killed. No acknowledged session write may be rolled back (a conversation
// going back a step or vanishing), no code sent twice.
func TestSentinelFailover(t *testing.T) {
	s := startSentinels(t)
	e := newEnv(t, procrig.Backends{Sentinels: s.sentinels, MasterName: s.name}, procrig.Options{}, 2)
	sc := redis.NewSentinelClient(&redis.Options{Addr: s.sentinels[0]})
	defer sc.Close()
	t.Run("SENTINEL FAILOVER", func(t *testing.T) {
		tl := &tally{}
		traffic(e, tl, "fo", func() {
			time.Sleep(700 * time.Millisecond)
			if err := sc.Failover(context.Background(), s.name).Err(); err != nil {
				t.Errorf("SENTINEL FAILOVER: %v", err)
			}
			waitMaster(t, sc, s.name, s.replica.addr)
			time.Sleep(2 * time.Second)
		})
		tl.report(t, "planned SENTINEL FAILOVER")
	})
	t.Run("master killed", func(t *testing.T) {
		waitMaster(t, sc, s.name, s.replica.addr)
		waitReplicaLinked(t, s.master.addr)
		tl := &tally{}
		traffic(e, tl, "mk", func() {
			time.Sleep(700 * time.Millisecond)
			s.replica.kill() // the master since the failover
			waitMaster(t, sc, s.name, s.master.addr)
			time.Sleep(2 * time.Second)
		})
		tl.report(t, "master kill -9")
	})
}

func waitMaster(t *testing.T, sc *redis.SentinelClient, name, want string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		addr, err := sc.GetMasterAddrByName(context.Background(), name).Result()
		if err == nil && len(addr) == 2 && net.JoinHostPort(addr[0], addr[1]) == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("master never became %s (now %v, %v)", want, addr, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func waitReplicaLinked(t *testing.T, addr string) {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: addr})
	defer c.Close()
	deadline := time.Now().Add(20 * time.Second)
	for {
		info, _ := c.Info(context.Background(), "replication").Result()
		if containsLine(info, "master_link_status:up") {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never linked to the new master", addr)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func containsLine(s, line string) bool {
	for _, l := range strings.Split(s, "\n") {
		if strings.TrimSpace(l) == line {
			return true
		}
	}
	return false
}

func writeFile(path, body string) error { return os.WriteFile(path, []byte(body), 0o600) }
