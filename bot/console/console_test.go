package console_test

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/png"
	"strings"
	"testing"

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

func TestPhoneAcceptsOnlyKeypad(t *testing.T) {
	fl := &script{replies: []engine.Reply{
		{Outputs: []engine.Output{{MessageID: "menu", Expect: engine.Expect{Kind: engine.ExpectChoice, Choices: []engine.Choice{{ID: "flow:reset", MessageID: "X"}}}}}},
		{Outputs: []engine.Output{{MessageID: "ok"}}},
		{Outputs: []engine.Output{{MessageID: "bye"}}, Ended: true},
	}}
	var out bytes.Buffer
	c := &console.Console{Engine: fl, Messages: words{}, In: strings.NewReader("abc\n10041#\n\n"), Out: &out, User: "call", Phone: true}
	if err := c.Run(context.Background(), ""); err != nil {
		t.Fatal(err)
	}
	if len(fl.got) != 3 || fl.got[1].Kind != engine.InputDigits || fl.got[1].Value.Reveal() != "10041" || fl.got[2].Kind != engine.InputTimeout {
		t.Fatalf("inputs %+v", fl.got)
	}
	if !strings.Contains(out.String(), "only 0-9") || !strings.Contains(out.String(), "(voice) voice.press(voice) X") {
		t.Fatalf("output:\n%s", out.String())
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
