package console_test

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/png"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/resetbot/resetbot/bot/console"
	"github.com/resetbot/resetbot/core/engine"
)

// script is a fake engine: it records inputs and answers from a list.
type script struct {
	replies []engine.Reply
	got     []engine.Input
}

func (s *script) Handle(_ context.Context, t engine.Turn) engine.Reply {
	s.got = append(s.got, t.Input)
	r := s.replies[0]
	if len(s.replies) > 1 {
		s.replies = s.replies[1:]
	}
	return r
}

type words struct{}

func (words) Text(_ string, id string, voice bool, args map[string]string) string {
	if voice {
		return "(voice) " + id + args["option"]
	}
	return id
}

func TestChatRendersChoicesAndReadsSecretsTwice(t *testing.T) {
	fl := &script{replies: []engine.Reply{
		{Outputs: []engine.Output{{MessageID: "pick", Expect: engine.Expect{Kind: engine.ExpectChoice, Choices: []engine.Choice{{ID: "sms", MessageID: "factor.sms"}, {ID: "email", MessageID: "factor.email"}}}}}},
		{Outputs: []engine.Output{{MessageID: "pw", Expect: engine.Expect{Kind: engine.ExpectSecret, Confirm: true}}}},
		{Outputs: []engine.Output{{MessageID: "done"}}, Ended: true},
	}}
	var out bytes.Buffer
	c := &console.Console{Engine: fl, Messages: words{}, In: strings.NewReader("2\nS3cret-Horse-Battery\nS3cret-Horse-Battery\n"), Out: &out, User: "u"}
	if err := c.Run(context.Background(), "reset"); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "[2] factor.email") || !strings.Contains(out.String(), "conversation ended") {
		t.Fatalf("output:\n%s", out.String())
	}
	if fl.got[1].Kind != engine.InputChoice || fl.got[1].Choice != "email" {
		t.Fatalf("choice input %+v", fl.got[1])
	}
	if in := fl.got[2]; in.Kind != engine.InputSecret || in.Value.Reveal() != "S3cret-Horse-Battery" || !in.Value.Equal(in.Confirm) {
		t.Fatalf("secret input %+v", in)
	}
}

func TestEndOfInputCancels(t *testing.T) {
	fl := &script{replies: []engine.Reply{{Outputs: []engine.Output{{MessageID: "q", Expect: engine.Expect{Kind: engine.ExpectText}}}}}}
	c := &console.Console{Engine: fl, Messages: words{}, In: strings.NewReader(""), Out: &bytes.Buffer{}, User: "u"}
	if err := c.Run(context.Background(), "reset"); err != nil {
		t.Fatal(err)
	}
	if last := fl.got[len(fl.got)-1]; last.Kind != engine.InputCancel {
		t.Fatalf("last input %+v", last)
	}
}

func TestTerminalQR(t *testing.T) {
	// A 21x21 module pattern scaled by 3 with a finder square top-left.
	img := image.NewGray(image.Rect(0, 0, 63, 63))
	for y := 0; y < 63; y++ {
		for x := 0; x < 63; x++ {
			img.SetGray(x, y, color.Gray{Y: 255})
			mx, my := x/3, y/3
			// finder squares top-left and top-right, as every QR code has
			for _, ox := range []int{0, 14} {
				fx := mx - ox
				if fx >= 0 && fx < 7 && my < 7 && (fx == 0 || my == 0 || fx == 6 || my == 6 || (fx >= 2 && fx <= 4 && my >= 2 && my <= 4)) {
					img.SetGray(x, y, color.Gray{})
				}
			}
			if mx == 20 && my == 20 {
				img.SetGray(x, y, color.Gray{})
			}
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	q := console.TerminalQR(b.Bytes())
	lines := strings.Split(strings.TrimRight(q, "\n"), "\n")
	if len(lines) != 13 || len([]rune(lines[0])) != 5+25 { // 21 modules + 4 quiet, two rows per line
		t.Fatalf("%d lines:\n%s", len(lines), q)
	}
	if console.TerminalQR([]byte("not a png")) != "" {
		t.Fatal("garbage rendered")
	}
}

// hiddenEOF is a secret reader that gets Ctrl-D (or Ctrl-C).
func hiddenErr(err error) console.SecretReader {
	return func(string) (string, error) { return "", err }
}

// TestCtrlCAndCtrlDAtAHiddenPromptCancel: the conversation is cancelled in
// the engine and the demo ends; nothing typed later becomes the password.
func TestCtrlCAndCtrlDAtAHiddenPromptCancel(t *testing.T) {
	for name, err := range map[string]error{"ctrl-c": console.ErrInterrupted, "ctrl-d": io.EOF} {
		t.Run(name, func(t *testing.T) {
			fl := &script{replies: []engine.Reply{
				{Outputs: []engine.Output{{MessageID: "pw", Expect: engine.Expect{Kind: engine.ExpectSecret, Confirm: true}}}},
				{Outputs: []engine.Output{{MessageID: "cancelled"}}, Ended: true},
			}}
			c := &console.Console{Engine: fl, Messages: words{}, In: strings.NewReader("Typed-After-CtrlC\n"),
				Out: &bytes.Buffer{}, User: "u", ReadSecret: hiddenErr(err)}
			if err := c.Run(context.Background(), "reset"); err != nil {
				t.Fatal(err)
			}
			if len(fl.got) != 2 || fl.got[1].Kind != engine.InputCancel {
				t.Fatalf("inputs %+v", fl.got)
			}
		})
	}
}

// TestCtrlCAtALinePromptCancels: a cancelled context (SIGINT) ends a prompt
// that is waiting for a line that never comes.
func TestCtrlCAtALinePromptCancels(t *testing.T) {
	fl := &script{replies: []engine.Reply{
		{Outputs: []engine.Output{{MessageID: "q", Expect: engine.Expect{Kind: engine.ExpectText}}}},
		{Outputs: []engine.Output{{MessageID: "cancelled"}}, Ended: true},
	}}
	in, w := io.Pipe()
	defer w.Close()
	ctx, cancel := context.WithCancel(context.Background())
	c := &console.Console{Engine: fl, Messages: words{}, In: in, Out: &bytes.Buffer{}, User: "u"}
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx, "reset") }()
	time.Sleep(20 * time.Millisecond)
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Ctrl-C did not end the prompt")
	}
	if last := fl.got[len(fl.got)-1]; last.Kind != engine.InputCancel {
		t.Fatalf("last input %+v", last)
	}
}

// TestLongLineIsRefusedNotACrash: a 10,000-character piped line is refused
// with a note and the next line is read.
func TestLongLineIsRefusedNotACrash(t *testing.T) {
	fl := &script{replies: []engine.Reply{
		{Outputs: []engine.Output{{MessageID: "q", Expect: engine.Expect{Kind: engine.ExpectText}}}},
		{Outputs: []engine.Output{{MessageID: "done"}}, Ended: true},
	}}
	var out bytes.Buffer
	c := &console.Console{Engine: fl, Messages: words{}, In: strings.NewReader(strings.Repeat("x", 10000) + "\namartin\n"),
		Out: &out, User: "u"}
	if err := c.Run(context.Background(), "reset"); err != nil {
		t.Fatal(err)
	}
	if len(fl.got) != 2 || fl.got[1].Value.Reveal() != "amartin" || !strings.Contains(out.String(), "too long") {
		t.Fatalf("inputs %+v\n%s", fl.got, out.String())
	}
}

// TestAnotherConversation: after one ends, typing starts the next.
func TestAnotherConversation(t *testing.T) {
	fl := &script{replies: []engine.Reply{{Outputs: []engine.Output{{MessageID: "bye"}}, Ended: true}}}
	c := &console.Console{Engine: fl, Messages: words{}, In: strings.NewReader("unlock\n"), Out: &bytes.Buffer{}, User: "u"}
	if err := c.Run(context.Background(), "reset"); err != nil {
		t.Fatal(err)
	}
	if len(fl.got) != 2 || fl.got[1].Kind != engine.InputText || fl.got[1].Value.Reveal() != "unlock" {
		t.Fatalf("inputs %+v", fl.got)
	}
}
