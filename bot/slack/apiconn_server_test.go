package slack

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
)

// rawServer is a loopback TCP server that reads HTTP/1.1 requests by hand
// and lets a test answer each one as it likes (or not at all), so that the
// tests control what a connection carries and when it closes. It
// allocates nothing per request of its own, so that a benchmark's B/op is
// the client's.
type rawServer struct {
	ln     net.Listener
	handle func(r *rawReq) bool // answers r; false closes the connection
	conns  atomic.Int64         // connections accepted
	reqs   atomic.Int64         // requests read
	// shared is set when a request arrived on a connection before the
	// answer to the previous one was written (a client sharing it).
	shared atomic.Bool
	wg     sync.WaitGroup
	mu     sync.Mutex
	open   map[net.Conn]bool
}

// rawReq is one request read by a rawServer.
type rawReq struct {
	n    int64    // its number, from 1, over the server's life
	head []byte   // request line and headers (valid during handle only)
	body []byte   // valid during handle only
	conn net.Conn // where to answer
	seq  int      // its number on its connection, from 1
}

// newRawServer starts a rawServer; it stops with the test.
func newRawServer(t testing.TB, handle func(r *rawReq) bool) *rawServer {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &rawServer{ln: ln, handle: handle, open: map[net.Conn]bool{}}
	s.wg.Go(s.accept)
	t.Cleanup(s.close)
	return s
}

// base is the Web API base URL of the server.
func (s *rawServer) base() string { return "http://" + s.ln.Addr().String() + "/api/" }

func (s *rawServer) close() {
	_ = s.ln.Close()
	s.mu.Lock()
	for c := range s.open {
		_ = c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

func (s *rawServer) accept() {
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.conns.Add(1)
		s.mu.Lock()
		s.open[c] = true
		s.mu.Unlock()
		s.wg.Go(func() { s.serve(c) })
	}
}

func (s *rawServer) serve(c net.Conn) {
	defer func() {
		s.mu.Lock()
		delete(s.open, c)
		s.mu.Unlock()
		_ = c.Close()
	}()
	br := bufio.NewReader(c)
	r := &rawReq{conn: c}
	for r.seq = 1; ; r.seq++ {
		if !readRawReq(br, r) {
			return
		}
		r.n = s.reqs.Add(1)
		if !s.handle(r) {
			return
		}
		if br.Buffered() > 0 {
			s.shared.Store(true)
		}
	}
}

// readRawReq reads a request's head and its Content-Length body into r's
// buffers.
func readRawReq(br *bufio.Reader, r *rawReq) bool {
	r.head, r.body = r.head[:0], r.body[:0]
	n := 0
	for {
		l, err := br.ReadSlice('\n')
		if err != nil {
			return false
		}
		if len(l) == 2 {
			break
		}
		r.head = append(r.head, l...)
		if v, ok := bytes.CutPrefix(l, []byte("Content-Length: ")); ok {
			n, _ = strconv.Atoi(string(bytes.TrimSpace(v)))
		}
	}
	r.body = append(r.body, make([]byte, n)...)[:n]
	_, err := io.ReadFull(br, r.body)
	return err == nil
}
