package console

import (
	"errors"
	"io"
	"strings"
	"testing"
)

// TestReadHiddenKeys: in raw mode Ctrl-C and Ctrl-D are keys the hidden
// prompt sees; backspace and Ctrl-U edit.
func TestReadHiddenKeys(t *testing.T) {
	for _, c := range []struct {
		name, keys, want string
		err              error
	}{
		{"enter", "Tulip-Walrus\r", "Tulip-Walrus", nil},
		{"backspace", "abx\x7fc\r", "abc", nil},
		{"ctrl-u", "wrong\x15right\n", "right", nil},
		{"ctrl-c", "half\x03rest\r", "", ErrInterrupted},
		{"ctrl-d", "\x04", "", io.EOF},
		{"too long", strings.Repeat("x", MaxLine+5) + "\r", "", errTooLong},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := readHidden(strings.NewReader(c.keys))
			if got != c.want || !errors.Is(err, c.err) {
				t.Fatalf("got %q, %v; want %q, %v", got, err, c.want, c.err)
			}
		})
	}
}
