package policy

import (
	"bytes"
	"context"
	"crypto/sha1" //nolint:gosec // SHA-1 is the key of the HIBP file format, not a security primitive here.
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/resetbot/resetbot/core/secret"
)

// Limits of the breached-password file format.
const (
	hashHexLen = 40  // SHA-1 in hex
	maxLineLen = 128 // longest accepted line, CRLF included
	scanBlock  = 4096
	checkHead  = 64 << 10 // bytes validated at open
)

// ErrBadBreachedFile means the breached-password file is not in the expected
// format: "SHA1HEX[:count]" lines sorted by hash.
var ErrBadBreachedFile = errors.New("policy: breached-password file is malformed")

// Breached looks passwords up in a local copy of the Have I Been Pwned
// "Pwned Passwords" SHA-1 file: one "SHA1HEX:count" line per password, sorted
// by hash, as produced by the official downloader (ordered by hash). The file
// can be tens of gigabytes, so it is never loaded: each lookup is a binary
// search with ReadAt over variable-length lines, about log2(lines) reads of
// 256 bytes (≈ 31 for the full 2024 file), served from the page cache once
// warm. The password never leaves the process; only its SHA-1 is compared.
//
// Upper- or lower-case hex is accepted as long as the whole file uses one
// case (sort order is then the same). LF and CRLF line ends are accepted;
// the count is optional. A Breached is safe for concurrent use.
type Breached struct {
	f    *os.File
	size int64
}

// OpenBreached opens path and checks that it is well formed and sorted: every
// line of the first 64 KiB, and the last line against them. A file that fails
// is refused (ErrBadBreachedFile) rather than silently missing passwords. To
// sort an unsorted file use `LC_ALL=C sort -o out in` on an all-upper-case
// file.
func OpenBreached(path string) (*Breached, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("policy: open breached-password file: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("policy: stat breached-password file: %w", err)
	}
	b := &Breached{f: f, size: st.Size()}
	if err := b.validate(); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("%w: %s: %v", ErrBadBreachedFile, path, err)
	}
	return b, nil
}

// Close closes the file.
func (b *Breached) Close() error { return b.f.Close() }

// Contains reports whether pw is in the file. err is an I/O failure or a
// corrupt file; callers must then refuse the password (fail closed).
func (b *Breached) Contains(ctx context.Context, pw secret.String) (bool, error) {
	sum := sha1.Sum([]byte(pw.Reveal())) //nolint:gosec // HIBP key, see Breached.
	return b.ContainsHash(ctx, sum)
}

// ContainsHash reports whether the SHA-1 sum is in the file.
func (b *Breached) ContainsHash(ctx context.Context, sum [sha1.Size]byte) (bool, error) {
	var key [hashHexLen]byte
	hex.Encode(key[:], sum[:])
	upper(key[:])
	return b.find(ctx, key[:])
}

// find binary-searches for key (upper-case hex). Invariant: lo is the start
// of a line, and a line holding key, if any, starts in [lo, hi).
func (b *Breached) find(ctx context.Context, key []byte) (bool, error) {
	lo, hi := int64(0), b.size
	buf := make([]byte, 2*maxLineLen)
	for hi-lo > scanBlock {
		if err := ctx.Err(); err != nil {
			return false, err
		}
		mid := lo + (hi-lo)/2
		// Read from mid-1 so a line starting exactly at mid is found too.
		n, err := b.readAt(buf, mid-1)
		if err != nil {
			return false, err
		}
		nl := bytes.IndexByte(buf[:min(n, maxLineLen)], '\n')
		if nl < 0 {
			if mid-1+int64(n) < b.size {
				return false, fmt.Errorf("%w: line longer than %d bytes near offset %d", ErrBadBreachedFile, maxLineLen, mid)
			}
			hi = mid // no line starts after mid
			continue
		}
		start := mid + int64(nl)
		if start >= hi {
			hi = mid
			continue
		}
		rest := buf[nl+1 : n]
		if bytes.IndexByte(rest, '\n') < 0 && start+int64(len(rest)) < b.size {
			return false, fmt.Errorf("%w: line longer than %d bytes at offset %d", ErrBadBreachedFile, maxLineLen, start)
		}
		line, next := lineAt(rest, start)
		if len(line) < hashHexLen {
			return false, fmt.Errorf("%w: short line at offset %d", ErrBadBreachedFile, start)
		}
		switch cmpKey(line[:hashHexLen], key) {
		case 0:
			return true, nil
		case -1:
			lo = next
		default:
			hi = start
		}
	}
	return b.scan(lo, hi, key)
}

// scan looks for key among the lines starting in [lo, hi).
func (b *Breached) scan(lo, hi int64, key []byte) (bool, error) {
	if lo >= hi {
		return false, nil
	}
	buf := make([]byte, hi-lo+maxLineLen)
	n, err := b.readAt(buf, lo)
	if err != nil {
		return false, err
	}
	data := buf[:n]
	for off := lo; off < hi && len(data) > 0; {
		line, next := lineAt(data, off)
		if len(line) >= hashHexLen {
			switch cmpKey(line[:hashHexLen], key) {
			case 0:
				return true, nil
			case 1:
				return false, nil
			}
		}
		data = data[next-off:]
		off = next
	}
	return false, nil
}

// readAt reads up to len(buf) bytes at off; a short read at end of file is
// not an error.
func (b *Breached) readAt(buf []byte, off int64) (int, error) {
	n, err := b.f.ReadAt(buf, off)
	if err != nil && !errors.Is(err, io.EOF) {
		return n, fmt.Errorf("policy: read breached-password file: %w", err)
	}
	return n, nil
}

// lineAt returns the line at the start of data (without its line end) and
// the file offset of the following line, given that data starts at off.
func lineAt(data []byte, off int64) ([]byte, int64) {
	i := bytes.IndexByte(data, '\n')
	if i < 0 {
		return bytes.TrimSuffix(data, []byte{'\r'}), off + int64(len(data))
	}
	return bytes.TrimSuffix(data[:i], []byte{'\r'}), off + int64(i) + 1
}

// cmpKey compares a line's hash with key (upper case) case-insensitively.
func cmpKey(h, key []byte) int {
	for i := range hashHexLen {
		c := h[i]
		if 'a' <= c && c <= 'f' {
			c -= 'a' - 'A'
		}
		if c != key[i] {
			if c < key[i] {
				return -1
			}
			return 1
		}
	}
	return 0
}

func upper(h []byte) {
	for i, c := range h {
		if 'a' <= c && c <= 'f' {
			h[i] = c - ('a' - 'A')
		}
	}
}

// validate checks the lines in the first checkHead bytes and the last line.
func (b *Breached) validate() error {
	if b.size == 0 {
		return errors.New("empty file")
	}
	head := make([]byte, min(b.size, checkHead))
	n, err := b.readAt(head, 0)
	if err != nil {
		return err
	}
	head = head[:n]
	if int64(n) < b.size {
		// Drop the partial last line of the sample.
		if i := bytes.LastIndexByte(head, '\n'); i >= 0 {
			head = head[:i+1]
		}
	}
	var prev []byte
	lineNo := 0
	for len(head) > 0 {
		line, next := lineAt(head, 0)
		head = head[next:]
		lineNo++
		if err := checkLine(line); err != nil {
			return fmt.Errorf("line %d: %v", lineNo, err)
		}
		if prev != nil && cmpKey(prev, upperCopy(line[:hashHexLen])) >= 0 {
			return fmt.Errorf("line %d: not sorted by hash (or duplicate)", lineNo)
		}
		prev = line[:hashHexLen]
	}
	last, err := b.lastLine()
	if err != nil {
		return err
	}
	if err := checkLine(last); err != nil {
		return fmt.Errorf("last line: %v", err)
	}
	if cmpKey(prev, upperCopy(last[:hashHexLen])) > 0 {
		return errors.New("last line sorts before the first lines: file not sorted")
	}
	return nil
}

func (b *Breached) lastLine() ([]byte, error) {
	off := max(0, b.size-2*maxLineLen)
	buf := make([]byte, b.size-off)
	n, err := b.readAt(buf, off)
	if err != nil {
		return nil, err
	}
	buf = bytes.TrimRight(buf[:n], "\r\n")
	if i := bytes.LastIndexByte(buf, '\n'); i >= 0 {
		buf = buf[i+1:]
	} else if off > 0 {
		return nil, errors.New("last line too long")
	}
	return buf, nil
}

func upperCopy(h []byte) []byte {
	c := append([]byte(nil), h...)
	upper(c)
	return c
}

// checkLine accepts "HEX40" or "HEX40:digits".
func checkLine(line []byte) error {
	if len(line) > maxLineLen {
		return errors.New("line too long")
	}
	if len(line) < hashHexLen {
		return errors.New("expected a 40-digit SHA-1 hash")
	}
	for _, c := range line[:hashHexLen] {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return errors.New("expected a 40-digit SHA-1 hash")
		}
	}
	rest := line[hashHexLen:]
	if len(rest) == 0 {
		return nil
	}
	if rest[0] != ':' || len(rest) == 1 {
		return errors.New("expected HASH:count")
	}
	for _, c := range rest[1:] {
		if c < '0' || c > '9' {
			return errors.New("count is not a number")
		}
	}
	return nil
}
