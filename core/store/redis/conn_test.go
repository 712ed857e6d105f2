package redis

import (
	"net"
	"syscall"
	"testing"
	"time"
)

// A connection that just read a reply skips the pool's health-check peek;
// one idle for connFresh or more, or that never read, is peeked at as
// before, and sees a connection its peer closed.
func TestFreshConnSkipsThePeekOnlyJustAfterAReply(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	served := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err == nil {
			_, _ = c.Write([]byte("+OK\r\n"))
		}
		served <- c
	}()
	nc, err := dialFresh(time.Second)(t.Context(), "tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	c, ok := nc.(*freshConn)
	if !ok {
		t.Fatalf("dialFresh gave a %T", nc)
	}
	peeked := func() bool {
		t.Helper()
		sc, ok := any(c).(syscall.Conn)
		if !ok {
			t.Fatal("not a syscall.Conn: go-redis would never check it")
		}
		rc, err := sc.SyscallConn()
		if err != nil {
			t.Fatal(err)
		}
		called := false
		var buf [1]byte
		_ = rc.Read(func(fd uintptr) bool {
			called = true
			_, _, _ = syscall.Recvfrom(int(fd), buf[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
			return true
		})
		return called
	}
	if !peeked() {
		t.Fatal("a connection that never read was not peeked at")
	}
	if _, err := c.Read(make([]byte, 5)); err != nil {
		t.Fatal(err)
	}
	if peeked() {
		t.Fatal("a connection that just read a reply was peeked at")
	}
	srv := <-served
	if srv == nil {
		t.Fatal("accept failed")
	}
	_ = srv.Close()
	c.last.Store(time.Now().Add(-connFresh).UnixNano())
	if !peeked() {
		t.Fatal("a connection idle for connFresh was not peeked at")
	}
	if c.NetConn() == nil {
		t.Fatal("no wrapped connection")
	}
}
