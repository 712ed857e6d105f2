// Package console is the terminal channel used by `resetbot demo`: a chat
// conversation, or a phone call played with keypad digits, driven through the
// same engine and flows as Slack, Teams and Twilio.
//
// In chat mode choices are numbered and masked fields are read without echo
// when the input is a terminal. In phone mode only keypad keys are accepted
// (0–9, * and #) and every prompt is the voice variant that the IVR would
// speak.
package console

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/resetbot/resetbot/core/engine"
	"github.com/resetbot/resetbot/core/secret"
)

// Handler runs one engine turn.
type Handler interface {
	Handle(ctx context.Context, t engine.Turn) engine.Reply
}

// Renderer renders catalogued messages.
type Renderer interface {
	Text(locale, id string, voice bool, args map[string]string) string
}

// SecretReader reads a line without echo; nil reads it like any other line.
type SecretReader func(prompt string) (string, error)

// Console is one terminal conversation.
type Console struct {
	Engine   Handler
	Messages Renderer
	In       io.Reader
	Out      io.Writer
	// Phone plays the conversation as a call: keypad input, voice prompts.
	Phone bool
	// User is the channel identity (a fixed demo user or a call ID).
	User   string
	Locale string
	// Hints are identity signals the chat platform would give (a profile email).
	Hints engine.Hints
	// ReadSecret reads masked input; nil reads a normal line.
	ReadSecret SecretReader
	// QR prints an enrollment QR code for the terminal; nil prints nothing.
	QR func(png []byte) string

	lines *bufio.Scanner
	seq   int
}

func (c *Console) channel() string {
	if c.Phone {
		return "voice"
	}
	return "console"
}

// Run holds the conversation until the flow ends, the input ends or ctx is done.
func (c *Console) Run(ctx context.Context, start string) error {
	c.lines = bufio.NewScanner(c.In)
	c.lines.Buffer(make([]byte, 4096), 4096)
	in := engine.Input{Kind: engine.InputStart, Flow: start}
	if start == "" {
		in = engine.Input{Kind: engine.InputText, Value: secret.New("hello")}
	}
	for {
		r := c.Engine.Handle(ctx, c.turn(in))
		c.show(r)
		if r.Ended {
			return nil
		}
		var err error
		if in, err = c.read(r.Last().Expect); err != nil {
			if errors.Is(err, io.EOF) {
				c.Engine.Handle(ctx, c.turn(engine.Input{Kind: engine.InputCancel}))
				return nil
			}
			return err
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
}

func (c *Console) turn(in engine.Input) engine.Turn {
	c.seq++
	return engine.Turn{Channel: c.channel(), ChannelUser: c.User, Locale: c.Locale, Hints: c.Hints,
		DeliveryID: c.User + "-" + strconv.Itoa(c.seq), Input: in}
}

// show prints the reply's outputs.
func (c *Console) show(r engine.Reply) {
	for _, o := range r.Outputs {
		text := c.Messages.Text(c.Locale, o.MessageID, c.Phone, o.Args)
		prefix := "bot> "
		if c.Phone {
			prefix = "📞 says> "
		}
		fmt.Fprintf(c.Out, "%s%s\n", prefix, text)
		if a := o.Attachment; a != nil && !c.Phone {
			if c.QR != nil && len(a.PNG) > 0 {
				fmt.Fprintln(c.Out, c.QR(a.PNG))
			}
			if !a.Text.Empty() {
				// The demo terminal is the user's own screen: this is where
				// an authenticator setup key is shown, once.
				fmt.Fprintf(c.Out, "     setup key: %s\n", a.Text.Reveal())
			}
		}
		if o.Expect.Kind == engine.ExpectChoice {
			for i, ch := range o.Expect.Choices {
				label := c.Messages.Text(c.Locale, ch.MessageID, c.Phone, nil)
				if c.Phone {
					fmt.Fprintf(c.Out, "%s%s\n", prefix, c.Messages.Text(c.Locale, "voice.press", true,
						map[string]string{"option": label, "digit": strconv.Itoa(i + 1)}))
					continue
				}
				fmt.Fprintf(c.Out, "     [%d] %s\n", i+1, label)
			}
		}
	}
	if r.Ended {
		fmt.Fprintln(c.Out, "— conversation ended —")
	}
}

func (c *Console) line(prompt string) (string, error) {
	fmt.Fprint(c.Out, prompt)
	if !c.lines.Scan() {
		if err := c.lines.Err(); err != nil {
			return "", err
		}
		return "", io.EOF
	}
	return c.lines.Text(), nil
}

// read collects the next input as the expected kind asks.
func (c *Console) read(ex engine.Expect) (engine.Input, error) {
	if c.Phone {
		return c.readKeypad()
	}
	if ex.Kind == engine.ExpectSecret {
		return c.readSecret(ex.Confirm)
	}
	s, err := c.line("you> ")
	if err != nil {
		return engine.Input{}, err
	}
	s = strings.TrimSpace(s)
	if ex.Kind == engine.ExpectChoice {
		if n, err := strconv.Atoi(s); err == nil && n >= 1 && n <= len(ex.Choices) {
			return engine.Input{Kind: engine.InputChoice, Choice: ex.Choices[n-1].ID}, nil
		}
	}
	if ex.Kind == engine.ExpectDigits && isKeypad(s) {
		return engine.Input{Kind: engine.InputDigits, Value: secret.New(s)}, nil
	}
	return engine.Input{Kind: engine.InputText, Value: secret.New(s)}, nil
}

func (c *Console) readSecret(confirm bool) (engine.Input, error) {
	get := c.ReadSecret
	if get == nil {
		get = c.line
	}
	v, err := get("you (hidden)> ")
	if err != nil {
		return engine.Input{}, err
	}
	in := engine.Input{Kind: engine.InputSecret, Value: secret.New(v)}
	if confirm {
		w, err := get("again (hidden)> ")
		if err != nil {
			return engine.Input{}, err
		}
		in.Confirm = secret.New(w)
	}
	return in, nil
}

// readKeypad accepts only what a phone keypad can send; an empty line is
// silence, as when a caller says nothing.
func (c *Console) readKeypad() (engine.Input, error) {
	s, err := c.line("keypad> ")
	if err != nil {
		return engine.Input{}, err
	}
	s = strings.TrimSuffix(strings.ReplaceAll(strings.TrimSpace(s), " ", ""), "#")
	switch {
	case s == "":
		return engine.Input{Kind: engine.InputTimeout}, nil
	case !isKeypad(s):
		fmt.Fprintln(c.Out, "     (a phone keypad has only 0-9, * and #)")
		return c.readKeypad()
	}
	return engine.Input{Kind: engine.InputDigits, Value: secret.New(s)}, nil
}

func isKeypad(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if (r < '0' || r > '9') && r != '*' && r != '#' {
			return false
		}
	}
	return true
}
