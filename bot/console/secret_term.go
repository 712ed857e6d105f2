package console

import (
	"fmt"
	"io"
	"unicode/utf8"

	"golang.org/x/term"
)

// TerminalSecret reads hidden lines from the terminal fd (in, usually
// os.Stdin) in raw mode. In raw mode Ctrl-C and Ctrl-D arrive as keys, so a
// hidden prompt sees them (x/term's ReadPassword leaves Ctrl-C to the signal
// handler while it keeps waiting, and the next line typed became the
// password): Ctrl-C is ErrInterrupted and Ctrl-D io.EOF, and the caller
// cancels the conversation. Backspace and Ctrl-U edit; nothing is echoed.
func TerminalSecret(fd int, in io.Reader, out io.Writer) SecretReader {
	return func(prompt string) (string, error) {
		fmt.Fprint(out, prompt)
		st, err := term.MakeRaw(fd)
		if err != nil {
			return "", err
		}
		s, err := readHidden(in)
		_ = term.Restore(fd, st)
		fmt.Fprintln(out)
		return s, err
	}
}

// readHidden reads keys up to Enter.
func readHidden(in io.Reader) (string, error) {
	var buf []byte
	var b [1]byte
	for {
		n, err := in.Read(b[:])
		if n == 0 {
			if err == nil {
				continue
			}
			return "", err
		}
		switch c := b[0]; c {
		case '\r', '\n':
			if len(buf) > MaxLine {
				return "", errTooLong
			}
			return string(buf), nil
		case 3: // Ctrl-C
			return "", ErrInterrupted
		case 4: // Ctrl-D
			return "", io.EOF
		case 127, 8: // Backspace
			if len(buf) > 0 {
				_, size := utf8.DecodeLastRune(buf)
				buf = buf[:len(buf)-size]
			}
		case 21: // Ctrl-U
			buf = buf[:0]
		default:
			if c >= 32 && len(buf) <= MaxLine {
				buf = append(buf, c)
			}
		}
	}
}
