package testserver

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// topologyTimeout bounds how long a cluster or sentinel setup may take to converge.
const topologyTimeout = 30 * time.Second

// RedisCluster starts a Redis Cluster of masters nodes (no replicas) with the
// 16384 slots split evenly, waits until every node reports cluster_state:ok
// and returns the node addresses. The nodes stop in t.Cleanup.
func RedisCluster(t testing.TB, masters int) []string {
	t.Helper()
	nodes := make([]*RedisServer, masters)
	addrs := make([]string, masters)
	for i := range nodes {
		nodes[i] = StartRedis(t, "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
			"--cluster-node-timeout", "2000")
		addrs[i] = nodes[i].Addr
	}
	const slots = 16384
	for i, n := range nodes {
		lo, hi := i*slots/masters, (i+1)*slots/masters-1
		if _, err := redisCmd(n.Addr, "CLUSTER", "ADDSLOTSRANGE", strconv.Itoa(lo), strconv.Itoa(hi)); err != nil {
			t.Fatalf("testserver: cluster addslots on %s: %v", n.Addr, err)
		}
		if i > 0 {
			host, port, _ := net.SplitHostPort(addrs[0])
			if _, err := redisCmd(n.Addr, "CLUSTER", "MEET", host, port); err != nil {
				t.Fatalf("testserver: cluster meet from %s: %v", n.Addr, err)
			}
		}
	}
	want := []string{"cluster_state:ok", "cluster_known_nodes:" + strconv.Itoa(masters), "cluster_slots_ok:16384"}
	for _, a := range addrs {
		waitInfo(t, a, want, "CLUSTER", "INFO")
	}
	return addrs
}

// RedisSentinelSetup is a primary, one replica and one sentinel watching them.
type RedisSentinelSetup struct {
	// MasterName is the name the sentinel monitors ("mymaster").
	MasterName string
	// Sentinel is the sentinel's address (client config: Addrs + MasterName).
	Sentinel string
	// Primary and Replica are the data nodes at start; after a failover the
	// replica is the primary.
	Primary, Replica *RedisServer
}

// RedisSentinel starts a primary, a replica and a single sentinel (quorum 1,
// down-after 500 ms, so a killed primary is replaced in about a second) and
// waits until the replica is in sync and the sentinel knows it. Everything
// stops in t.Cleanup.
func RedisSentinel(t testing.TB) *RedisSentinelSetup {
	t.Helper()
	bin := redisBinary(t)
	const name = "mymaster"
	fast := []string{"--repl-diskless-sync-delay", "0"}
	primary := StartRedis(t, fast...)
	_, pport, _ := net.SplitHostPort(primary.Addr)
	replica := StartRedis(t, append(fast, "--replicaof", "127.0.0.1", pport)...)
	waitInfo(t, replica.Addr, []string{"master_link_status:up"}, "INFO", "replication")

	dir := t.TempDir()
	conf := filepath.Join(dir, "sentinel.conf")
	if err := os.WriteFile(conf, nil, 0o600); err != nil {
		t.Fatalf("testserver: %v", err)
	}
	sentinel, err := startRedisArgs(bin, func(port int) []string {
		return []string{conf, "--sentinel", "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--dir", dir,
			"--sentinel", "monitor", name, "127.0.0.1", pport, "1",
			"--sentinel", "down-after-milliseconds", name, "500",
			"--sentinel", "failover-timeout", name, "5000"}
	}, redisPing)
	if err != nil {
		t.Fatalf("testserver: sentinel: %v", err)
	}
	t.Cleanup(sentinel.Stop)
	waitInfo(t, sentinel.Addr, []string{"name=" + name + ",status=ok", "slaves=1"}, "INFO", "sentinel")
	return &RedisSentinelSetup{MasterName: name, Sentinel: sentinel.Addr, Primary: primary, Replica: replica}
}

// waitInfo polls cmd on addr until its reply contains every string in want.
func waitInfo(t testing.TB, addr string, want []string, cmd ...string) {
	t.Helper()
	deadline := time.Now().Add(topologyTimeout)
	for {
		reply, err := redisCmd(addr, cmd...)
		if err == nil && containsAll(reply, want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("testserver: %s on %s never showed %v; last reply %q, err %v", strings.Join(cmd, " "), addr, want, reply, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func containsAll(s string, subs []string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}

// redisCmd sends one command in RESP and returns a simple, integer or bulk
// string reply. It is just enough protocol to script a topology.
func redisCmd(addr string, args ...string) (string, error) {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return "", err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(2 * time.Second))
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	if _, err := io.WriteString(c, b.String()); err != nil {
		return "", err
	}
	r := bufio.NewReader(c)
	line, err := r.ReadString('\n')
	if err != nil {
		return "", err
	}
	line = strings.TrimSuffix(line, "\r\n")
	if line == "" {
		return "", errors.New("empty reply")
	}
	switch line[0] {
	case '+', ':':
		return line[1:], nil
	case '-':
		return "", errors.New(line[1:])
	case '$':
		n, err := strconv.Atoi(line[1:])
		if err != nil || n < 0 {
			return "", fmt.Errorf("bad bulk reply %q", line)
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(r, buf); err != nil {
			return "", err
		}
		return string(buf[:n]), nil
	default:
		return "", fmt.Errorf("unsupported reply %q", line)
	}
}
