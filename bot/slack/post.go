package slack

import (
	"context"
	"fmt"
	"slices"

	"github.com/slack-go/slack"
)

// postMessage is chat.postMessage, written here rather than through
// slack-go's PostMessageContext because every turn's reply goes through it:
// slack-go builds its generic option set and form, then decodes the whole
// echoed message, about a tenth of a Slack turn's CPU under load. The
// request is the one slack-go sends: a form with the token, the channel,
// the text and the blocks as JSON.
func (b *Bot) postMessage(ctx context.Context, channel string, blocks []slack.Block, text string) error {
	bj, err := appendBlocks(make([]byte, 0, 4<<10), blocks)
	if err != nil {
		return fmt.Errorf("slack: blocks: %w", err)
	}
	// The token stays a secret.String until this request is written (it is
	// never logged: callForm's errors name the method and Slack's error code only).
	// The form is escaped straight into one buffer of its final size: the
	// blocks are most of a turn's bytes, and escaping them through
	// url.QueryEscape copied them three times.
	token := b.o.Config.BotToken.Reveal()
	n := len("token=&channel=&text=&blocks=") + escapedLen(token) + escapedLen(channel) + escapedLen(text) + escapedLen(bj)
	// The form's buffer is pooled only when callForm copies it (direct): an
	// HTTP client may hold a request's body after Do returns.
	const method = "chat.postMessage"
	var fb *[]byte
	var body []byte
	if b.direct(method) {
		fb = getAPIBuf()
		body = slices.Grow(*fb, n)
	} else {
		body = make([]byte, 0, n)
	}
	body = appendQueryEscape(append(body, "token="...), token)
	body = appendQueryEscape(append(body, "&channel="...), channel)
	body = appendQueryEscape(append(body, "&text="...), text)
	body = appendQueryEscape(append(body, "&blocks="...), bj)
	var out apiStatus
	err = b.callForm(ctx, method, body, &out)
	if fb != nil {
		*fb = body
		putAPIBuf(fb)
	}
	return err
}

// queryClass[c] is what url.QueryEscape makes of byte c: 0 kept as it is,
// 1 a space (written '+'), 3 escaped as %XX (its length).
var queryClass = func() (t [256]uint8) {
	for c := range 256 {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-', c == '_', c == '.', c == '~':
		case c == ' ':
			t[c] = 1
		default:
			t[c] = 3
		}
	}
	return t
}()

// escapedLen is len(url.QueryEscape(s)).
func escapedLen[T ~string | ~[]byte](s T) int {
	n := len(s)
	for i := 0; i < len(s); i++ {
		n += int(queryClass[s[i]] & 2)
	}
	return n
}

// appendQueryEscape appends url.QueryEscape(s) to dst. It writes into dst's
// spare capacity by index, growing it once: a byte-by-byte append of a
// reply's blocks was about 4% of a Slack turn's CPU.
func appendQueryEscape[T ~string | ~[]byte](dst []byte, s T) []byte {
	const hex = "0123456789ABCDEF"
	n, m := len(dst), escapedLen(s)
	dst = slices.Grow(dst, m)[:n+m]
	for i := 0; i < len(s); i++ {
		switch c := s[i]; queryClass[c] {
		case 0:
			dst[n] = c
			n++
		case 1:
			dst[n] = '+'
			n++
		default:
			dst[n], dst[n+1], dst[n+2] = '%', hex[c>>4], hex[c&15]
			n += 3
		}
	}
	return dst
}
