package console

import (
	"bufio"
	"context"
	"errors"
	"io"
)

// MaxLine is the longest line the demo accepts; longer lines are refused
// with a note (and never crash the demo, whatever is piped in).
const MaxLine = 4096

// ErrInterrupted is returned by a read that Ctrl-C (or a cancelled context)
// interrupted. The conversation is then cancelled, like at end of input.
var ErrInterrupted = errors.New("console: interrupted")

// errTooLong marks a line longer than MaxLine (it was read and dropped).
var errTooLong = errors.New("console: line too long")

// lineReader reads one line per request on its own goroutine, so that a
// prompt can give up when ctx is cancelled (Ctrl-C) without waiting for
// Enter, and so that nothing reads ahead while a hidden prompt owns the
// terminal.
type lineReader struct {
	req     chan struct{}
	res     chan lineResult
	pending bool
}

type lineResult struct {
	s   string
	err error
}

func newLineReader(in io.Reader) *lineReader {
	l := &lineReader{req: make(chan struct{}), res: make(chan lineResult, 1)}
	br := bufio.NewReaderSize(in, MaxLine)
	go func() {
		for range l.req {
			s, err := readLine(br)
			l.res <- lineResult{s, err}
		}
	}()
	return l
}

// next returns the next line without its end of line.
func (l *lineReader) next(ctx context.Context) (string, error) {
	if !l.pending {
		l.req <- struct{}{}
		l.pending = true
	}
	select {
	case <-ctx.Done():
		return "", ErrInterrupted
	case r := <-l.res:
		l.pending = false
		return r.s, r.err
	}
}

// close stops the reader goroutine once it is idle.
func (l *lineReader) close() {
	if !l.pending {
		close(l.req)
	}
}

// readLine reads up to '\n'. A line longer than MaxLine is consumed to its
// end and reported as errTooLong; a last line without '\n' is returned.
func readLine(br *bufio.Reader) (string, error) {
	var line []byte
	long := false
	for {
		chunk, err := br.ReadSlice('\n')
		if !long {
			if len(line)+len(chunk) > MaxLine+2 { // +2: "\r\n"
				long, line = true, nil
			} else {
				line = append(line, chunk...)
			}
		}
		switch {
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case err != nil && (long || len(line) == 0):
			if long {
				return "", errTooLong
			}
			return "", err
		case long:
			return "", errTooLong
		}
		n := len(line)
		for n > 0 && (line[n-1] == '\n' || line[n-1] == '\r') {
			n--
		}
		return string(line[:n]), nil
	}
}
