package engine

import (
	"bufio"
	"crypto/rand"
	"io"
	"sync"
)

// randBuffer is the engine's default randomness: crypto/rand read 512
// bytes at a time. Every turn draws a reference (its lease owner) and some
// draw a session ID; crypto/rand.Reader makes one getrandom system call per
// read, a measurable part of a voice turn's CPU under load. The bytes are
// the same cryptographic randomness, only fetched in bulk; they are handed
// out once each, under a lock.
type randBuffer struct {
	mu sync.Mutex
	r  *bufio.Reader
}

func newRandBuffer() *randBuffer { return &randBuffer{r: bufio.NewReaderSize(rand.Reader, 512)} }

// Read fills p with random bytes.
func (b *randBuffer) Read(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return io.ReadFull(b.r, p)
}
