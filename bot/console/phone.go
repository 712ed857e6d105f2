package console

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Phone plays phone calls in the terminal against the phone line's own
// webhooks (an ivr/twilio Handler): it is Twilio for the demo. It posts the
// signed webhooks Twilio would post, speaks every <Say>, reads keypad keys
// for every <Gather> and follows <Redirect>, <Dial> and <Hangup>. So the
// demo has the line's menu, keys (* repeats, 0 for a person), silence rule
// (an empty line is silence: re-prompt once, then goodbye) and language
// choice, because they are the line's code, not a copy.
type Phone struct {
	// Line serves the phone webhooks (/voice/incoming, /voice/gather, ...).
	Line http.Handler
	// PublicURL, AccountSID and AuthToken are the line's configuration;
	// requests are signed with the token as Twilio signs them.
	PublicURL, AccountSID, AuthToken string
	// From is the caller ID, To the line's number.
	From, To string
	In       io.Reader
	Out      io.Writer

	lines *lineReader
}

// Run places calls until the input ends or Ctrl-C; after each call the user
// may call again.
func (p *Phone) Run(ctx context.Context) error {
	p.lines = newLineReader(p.In)
	defer p.lines.close()
	for {
		err := p.call(ctx, newCallSid())
		if errors.Is(err, errQuit) {
			return nil
		}
		if err != nil {
			return err
		}
		fmt.Fprint(p.Out, "(press Enter to call again, or Ctrl-D to quit) ")
		if _, err := p.lines.next(ctx); err != nil && !errors.Is(err, errTooLong) {
			fmt.Fprintln(p.Out)
			return nil
		}
	}
}

// twiml is one TwiML verb (or <Response>) with its nested verbs.
type twiml struct {
	XMLName xml.Name
	Attrs   []xml.Attr `xml:",any,attr"`
	Text    string     `xml:",chardata"`
	Verbs   []twiml    `xml:",any"`
}

func (t twiml) attr(name string) string {
	for _, a := range t.Attrs {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

// call plays one call until it hangs up (nil) or the user quits (errQuit,
// after telling the line that the caller hung up).
func (p *Phone) call(ctx context.Context, sid string) error {
	fmt.Fprintf(p.Out, "📞 calling the help line from %s ...\n", p.From)
	doc, err := p.post(ctx, p.PublicURL+"/voice/incoming", sid, nil)
	for err == nil {
		var next string
		var gather, redirect bool
		for _, v := range doc.Verbs {
			switch v.XMLName.Local {
			case "Say":
				p.say(v.Text)
			case "Gather":
				for _, s := range v.Verbs {
					if s.XMLName.Local == "Say" {
						p.say(s.Text)
					}
				}
				next, gather = v.attr("action"), true
			case "Redirect":
				next, redirect = strings.TrimSpace(v.Text), true
			case "Dial":
				fmt.Fprintf(p.Out, "     (the call is transferred to the help desk at %s; the demo ends it here)\n", strings.TrimSpace(v.Text))
			case "Hangup":
				fmt.Fprintln(p.Out, "— call ended —")
				p.hangUp(ctx, sid)
				return nil
			}
		}
		switch {
		case redirect:
			doc, err = p.post(ctx, next, sid, nil)
		case gather:
			keys, rerr := p.keypad(ctx)
			if rerr != nil {
				fmt.Fprintln(p.Out, "\n— you hung up —")
				p.hangUp(ctx, sid)
				return errQuit
			}
			doc, err = p.post(ctx, next, sid, url.Values{"Digits": {keys}})
		default:
			// TwiML ends without a gather: Twilio hangs up.
			fmt.Fprintln(p.Out, "— call ended —")
			p.hangUp(ctx, sid)
			return nil
		}
	}
	return err
}

func (p *Phone) say(text string) {
	fmt.Fprintf(p.Out, "📞 says> %s\n", strings.TrimSpace(text))
}

// keypad reads keys as Twilio would collect them: digits, * and #, a
// trailing # ends the entry, an empty line is silence.
func (p *Phone) keypad(ctx context.Context) (string, error) {
	for {
		fmt.Fprint(p.Out, "keypad> ")
		s, err := p.lines.next(ctx)
		if errors.Is(err, errTooLong) {
			fmt.Fprintln(p.Out, "     (a phone keypad has only 0-9, * and #)")
			continue
		}
		if err != nil {
			return "", err
		}
		s = strings.TrimSuffix(strings.ReplaceAll(strings.TrimSpace(s), " ", ""), "#")
		if s != "" && !isKeypad(s) {
			fmt.Fprintln(p.Out, "     (a phone keypad has only 0-9, * and #)")
			continue
		}
		return s, nil
	}
}

// hangUp posts the status callback of a finished call, as Twilio does.
func (p *Phone) hangUp(ctx context.Context, sid string) {
	cctx, stop := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer stop()
	_, _ = p.post(cctx, p.PublicURL+"/voice/status", sid, url.Values{"CallStatus": {"completed"}})
}

// post sends one signed webhook to the line and parses the TwiML answer.
func (p *Phone) post(ctx context.Context, target, sid string, extra url.Values) (twiml, error) {
	form := url.Values{"AccountSid": {p.AccountSID}, "CallSid": {sid}, "From": {p.From}, "To": {p.To},
		"CallStatus": {"in-progress"}}
	maps.Copy(form, extra)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, strings.NewReader(form.Encode()))
	if err != nil {
		return twiml{}, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Twilio-Signature", twilioSignature(p.AuthToken, target, form))
	w := &recorder{header: http.Header{}, code: http.StatusOK}
	p.Line.ServeHTTP(w, req)
	var doc twiml
	if w.code == http.StatusNoContent {
		return doc, nil
	}
	if w.code != http.StatusOK {
		return doc, fmt.Errorf("phone line answered %d: %s", w.code, strings.TrimSpace(w.body.String()))
	}
	if err := xml.Unmarshal(w.body.Bytes(), &doc); err != nil {
		return doc, fmt.Errorf("phone line answered with TwiML that does not parse: %w", err)
	}
	return doc, nil
}

// twilioSignature is Twilio's X-Twilio-Signature: base64 HMAC-SHA1 of the
// URL followed by the sorted form keys and values.
func twilioSignature(token, fullURL string, form url.Values) string {
	var b strings.Builder
	b.WriteString(fullURL)
	for _, k := range slices.Sorted(maps.Keys(form)) {
		for _, v := range form[k] {
			b.WriteString(k + v)
		}
	}
	m := hmac.New(sha1.New, []byte(token))
	m.Write([]byte(b.String()))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// newCallSid is a fresh CallSid ("CA" and 32 hex digits).
func newCallSid() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return "CA" + hex.EncodeToString(b[:])
}

// recorder is the response writer of an in-process webhook call.
type recorder struct {
	header http.Header
	body   bytes.Buffer
	code   int
}

func (r *recorder) Header() http.Header         { return r.header }
func (r *recorder) Write(b []byte) (int, error) { return r.body.Write(b) }
func (r *recorder) WriteHeader(code int)        { r.code = code }
