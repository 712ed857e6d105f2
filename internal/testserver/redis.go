// Package testserver starts real servers (redis-server, slapd, Samba AD) as
// throwaway child processes on free loopback ports for tests.
//
// A missing server binary skips the test, except when the environment has
// CI=true or TESTSERVER_REQUIRE=1 (set by `make test`): then it fails,
// so a run cannot pass by silently testing nothing. Under `go test -short`
// no server starts: every starter skips its test.
package testserver

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// redisReadyTimeout bounds how long a start waits for the first PONG.
const redisReadyTimeout = 10 * time.Second

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago. Another
// process may still take it before the caller binds it, so starters retry.
func FreePort(t testing.TB) int {
	t.Helper()
	p, err := freePort()
	if err != nil {
		t.Fatalf("testserver: free port: %v", err)
	}
	return p
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// RedisServer is a running throwaway redis-server without persistence.
type RedisServer struct {
	// Addr is host:port of the server, e.g. "127.0.0.1:41234".
	Addr string

	cmd      *exec.Cmd
	exited   chan struct{}
	out      *redisLog
	stopOnce sync.Once
}

// Redis starts a throwaway redis-server for t, stops it in t.Cleanup and
// returns its address.
func Redis(t testing.TB) string {
	t.Helper()
	return StartRedis(t).Addr
}

// StartRedis starts a throwaway redis-server for t and stops it in t.Cleanup.
// Extra arguments are passed to redis-server, e.g. "--requirepass", "pw".
// Use the returned server's Kill to simulate an outage.
func StartRedis(t testing.TB, args ...string) *RedisServer {
	t.Helper()
	bin := redisBinary(t)
	srv, err := startRedis(bin, t.TempDir(), args)
	if err != nil {
		t.Fatalf("testserver: %v", err)
	}
	t.Cleanup(srv.Stop)
	return srv
}

var shared struct {
	mu  sync.Mutex
	srv *RedisServer
	dir string
}

// SharedRedis returns the address of one redis-server shared by every test of
// the package, starting it on first use. Tests sharing it must keep their keys
// apart (a key prefix per test). Call StopShared from TestMain after m.Run,
// otherwise the server outlives the test binary:
//
//	func TestMain(m *testing.M) {
//		code := m.Run()
//		testserver.StopShared()
//		os.Exit(code)
//	}
func SharedRedis(t testing.TB) string {
	t.Helper()
	bin := redisBinary(t)
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if shared.srv == nil {
		dir, err := os.MkdirTemp("", "testserver-redis-")
		if err != nil {
			t.Fatalf("testserver: %v", err)
		}
		srv, err := startRedis(bin, dir, nil)
		if err != nil {
			_ = os.RemoveAll(dir)
			t.Fatalf("testserver: %v", err)
		}
		shared.srv, shared.dir = srv, dir
	}
	return shared.srv.Addr
}

// StopShared stops the server started by SharedRedis, if any.
func StopShared() {
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if shared.srv != nil {
		shared.srv.Stop()
		_ = os.RemoveAll(shared.dir)
		shared.srv, shared.dir = nil, ""
	}
}

// Kill stops the server abruptly with SIGKILL, as a crash would, and waits for
// it to exit. Clients see connection errors from then on.
func (s *RedisServer) Kill() {
	s.stopOnce.Do(func() {
		_ = s.cmd.Process.Kill()
		<-s.exited
	})
}

// Stop shuts the server down with SIGTERM, escalating to SIGKILL after five
// seconds, and waits for it to exit. It is safe to call more than once.
func (s *RedisServer) Stop() {
	s.stopOnce.Do(func() {
		_ = s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.exited:
		case <-time.After(5 * time.Second):
			_ = s.cmd.Process.Kill()
			<-s.exited
		}
	})
}

// Log returns what the server printed so far, for failure messages.
func (s *RedisServer) Log() string { return s.out.String() }

// redisBinary finds redis-server or skips (fails when servers are required) the
// test; it skips under -short.
func redisBinary(t testing.TB) string {
	t.Helper()
	skipShort(t)
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		missing(t, "testserver: redis-server not installed: "+err.Error())
	}
	return bin
}

// startRedis starts redis-server in dir on a free port, retrying with another
// port when the chosen one was taken in the meantime.
func startRedis(bin, dir string, extra []string) (*RedisServer, error) {
	return startRedisArgs(bin, func(port int) []string {
		return append([]string{
			"--port", strconv.Itoa(port), "--bind", "127.0.0.1",
			"--save", "", "--appendonly", "no", "--dir", dir,
		}, extra...)
	}, redisPing)
}

// startRedisArgs starts bin with the arguments args returns for a free port,
// retrying with another port when the chosen one was taken in the meantime.
// ready reports whether the server at addr answers.
func startRedisArgs(bin string, args func(port int) []string, ready func(addr string) bool) (*RedisServer, error) {
	var errs []error
	for range 3 {
		srv, err := startRedisOnce(bin, args, ready)
		if err == nil {
			return srv, nil
		}
		errs = append(errs, err)
	}
	return nil, errors.Join(errs...)
}

func startRedisOnce(bin string, args func(port int) []string, ready func(addr string) bool) (*RedisServer, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	srv := &RedisServer{
		Addr:   net.JoinHostPort("127.0.0.1", strconv.Itoa(port)),
		cmd:    exec.Command(bin, args(port)...),
		exited: make(chan struct{}),
		out:    &redisLog{},
	}
	srv.cmd.Stdout, srv.cmd.Stderr = srv.out, srv.out
	if err := srv.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start redis-server: %w", err)
	}
	go func() {
		_ = srv.cmd.Wait()
		close(srv.exited)
	}()
	deadline := time.Now().Add(redisReadyTimeout)
	for {
		if ready(srv.Addr) {
			return srv, nil
		}
		select {
		case <-srv.exited:
			return nil, fmt.Errorf("redis-server on port %d exited: %s", port, srv.Log())
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			srv.Kill()
			return nil, fmt.Errorf("redis-server on port %d not ready after %v: %s", port, redisReadyTimeout, srv.Log())
		}
	}
}

// redisPing reports whether addr answers PING (with PONG, or NOAUTH when the
// server requires a password), speaking raw RESP so the package needs no client
// library.
func redisPing(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return false
	}
	return redisPingConn(c)
}

// redisPingConn sends PING on c, closes it and reports whether the server answered.
func redisPingConn(c net.Conn) bool {
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return false
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	return err == nil && (line == "+PONG\r\n" || strings.HasPrefix(line, "-NOAUTH"))
}

// redisLog collects a server's output, safe for concurrent writes and reads.
type redisLog struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *redisLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *redisLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// Signal sends sig to the server: SIGSTOP hangs it (connections open, no
// answers), SIGCONT resumes it.
func (s *RedisServer) Signal(sig syscall.Signal) error { return s.cmd.Process.Signal(sig) }
