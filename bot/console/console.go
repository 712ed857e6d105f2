// Package console is the terminal channel used by `resetbot demo`: chat
// conversations (Console) and phone calls (Phone), driven through the same
// engine and flows as Slack, Teams and Twilio.
//
// One run holds several conversations: when one ends the demo offers
// another, against the same store, so what a user enrolled stays enrolled
// (enroll, then reset with the authenticator app, in one run). Ctrl-C or
// Ctrl-D at any prompt, hidden ones included, cancels the conversation and
// ends the demo. Lines longer than MaxLine are refused, never a crash.
//
// In chat mode choices are numbered and masked fields are read without echo
// when the input is a terminal (TerminalSecret). Phone calls go through the
// real phone line's webhooks (see Phone), so the demo line is the Twilio line.
package console

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

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
// It returns ErrInterrupted for Ctrl-C and io.EOF for Ctrl-D.
type SecretReader func(prompt string) (string, error)

// Console holds chat conversations in a terminal.
type Console struct {
	Engine   Handler
	Messages Renderer
	In       io.Reader
	Out      io.Writer
	// User is the channel identity (one demo chat user for the whole run).
	User   string
	Locale string
	// Hints are identity signals the chat platform would give (a profile email).
	Hints engine.Hints
	// ReadSecret reads masked input; nil reads a normal line.
	ReadSecret SecretReader
	// QR prints an enrollment QR code for the terminal; nil prints nothing.
	QR func(png []byte) string

	lines *lineReader
	seq   int
}

// errQuit ends the run: the input ended or was interrupted, and the open
// conversation has been cancelled.
var errQuit = errors.New("console: quit")

// Run holds conversations until the input ends, Ctrl-C, or ctx is done. The
// first starts the flow named start ("" greets the bot like a chat user);
// after each the user may type to start another.
func (c *Console) Run(ctx context.Context, start string) error {
	c.lines = newLineReader(c.In)
	defer c.lines.close()
	in := engine.Input{Kind: engine.InputStart, Flow: start}
	if start == "" {
		in = engine.Input{Kind: engine.InputText, Value: secret.New("hello")}
	}
	for {
		err := c.conversation(ctx, in)
		if errors.Is(err, errQuit) {
			return nil
		}
		if err != nil {
			return err
		}
		fmt.Fprintln(c.Out, "(type to start another conversation — e.g. reset, unlock, enroll — or Ctrl-D to quit)")
		s, err := c.line(ctx, "you> ")
		if err != nil {
			return nil
		}
		in = engine.Input{Kind: engine.InputText, Value: secret.New(strings.TrimSpace(s))}
	}
}

// conversation runs turns until the flow ends (nil) or the user quits
// (errQuit, after cancelling the conversation in the engine).
func (c *Console) conversation(ctx context.Context, in engine.Input) error {
	for {
		r := c.Engine.Handle(ctx, c.turn(in))
		c.show(r)
		if r.Ended {
			return nil
		}
		var err error
		if in, err = c.read(ctx, r.Last().Expect); err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, ErrInterrupted) {
				c.cancel(ctx)
				return errQuit
			}
			return err
		}
	}
}

// cancel ends the open conversation in the engine, even when ctx was
// cancelled by Ctrl-C.
func (c *Console) cancel(ctx context.Context) {
	cctx, stop := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer stop()
	fmt.Fprintln(c.Out)
	c.show(c.Engine.Handle(cctx, c.turn(engine.Input{Kind: engine.InputCancel})))
}

func (c *Console) turn(in engine.Input) engine.Turn {
	c.seq++
	return engine.Turn{Channel: "console", ChannelUser: c.User, Locale: c.Locale, Hints: c.Hints,
		DeliveryID: c.User + "-" + strconv.Itoa(c.seq), Input: in}
}

// show prints the reply's outputs.
func (c *Console) show(r engine.Reply) {
	if r.Locale != "" {
		// The conversation switched language (a language word, the
		// directory's preferred language): the demo follows it.
		c.Locale = r.Locale
	}
	for _, o := range r.Outputs {
		fmt.Fprintf(c.Out, "bot> %s\n", c.Messages.Text(c.Locale, o.MessageID, false, o.Args))
		if a := o.Attachment; a != nil {
			if c.QR != nil && len(a.PNG) > 0 {
				fmt.Fprintln(c.Out, c.QR(a.PNG))
			}
			if !a.Text.Empty() {
				// The demo terminal is the user's own screen: this is where
				// an authenticator setup key is shown, once.
				fmt.Fprintf(c.Out, "     setup key: %s\n", a.Text.Reveal())
			}
		}
		// A menu, or the side choices beside a field ("2" for a text
		// message instead of the authenticator's code).
		if len(o.Expect.Choices) > 0 {
			for i, ch := range o.Expect.Choices {
				fmt.Fprintf(c.Out, "     [%d] %s\n", ch.Digit(i), c.Messages.Text(c.Locale, ch.MessageID, false, nil))
			}
		}
	}
	if r.Ended {
		fmt.Fprintln(c.Out, "— conversation ended —")
	}
}

// line prints prompt and reads a line; a line that is too long is refused
// and asked again.
func (c *Console) line(ctx context.Context, prompt string) (string, error) {
	for {
		fmt.Fprint(c.Out, prompt)
		s, err := c.lines.next(ctx)
		if errors.Is(err, errTooLong) {
			fmt.Fprintf(c.Out, "\n     (that line is too long: at most %d characters; try again)\n", MaxLine)
			continue
		}
		return s, err
	}
}

// read collects the next input as the expected kind asks.
func (c *Console) read(ctx context.Context, ex engine.Expect) (engine.Input, error) {
	if ex.Kind == engine.ExpectSecret {
		return c.readSecret(ctx, ex.Confirm)
	}
	s, err := c.line(ctx, "you> ")
	if err != nil {
		return engine.Input{}, err
	}
	s = strings.TrimSpace(s)
	if ex.Kind == engine.ExpectChoice {
		if n, err := strconv.Atoi(s); err == nil {
			if id, ok := ex.ChoiceFor(n); ok {
				return engine.Input{Kind: engine.InputChoice, Choice: id}, nil
			}
		}
	}
	if ex.Kind == engine.ExpectDigits && isKeypad(s) {
		return engine.Input{Kind: engine.InputDigits, Value: secret.New(s)}, nil
	}
	return engine.Input{Kind: engine.InputText, Value: secret.New(s)}, nil
}

func (c *Console) readSecret(ctx context.Context, confirm bool) (engine.Input, error) {
	get := c.ReadSecret
	if get == nil {
		get = func(prompt string) (string, error) {
			fmt.Fprint(c.Out, prompt)
			return c.lines.next(ctx)
		}
	}
	ask := func(prompt string) (string, error) {
		for {
			v, err := get(prompt)
			if !errors.Is(err, errTooLong) {
				return v, err
			}
			fmt.Fprintf(c.Out, "     (too long: at most %d characters; try again)\n", MaxLine)
		}
	}
	v, err := ask("you (hidden)> ")
	if err != nil {
		return engine.Input{}, err
	}
	in := engine.Input{Kind: engine.InputSecret, Value: secret.New(v)}
	if confirm {
		w, err := ask("again (hidden)> ")
		if err != nil {
			return engine.Input{}, err
		}
		in.Confirm = secret.New(w)
	}
	return in, nil
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
