package secret_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/resetbot/resetbot/core/secret"
)

func TestNeverPrinted(t *testing.T) {
	const raw = "Hunter2-Correct-Horse"
	s := secret.New(raw)
	type holder struct {
		Password secret.String
		Other    string
	}
	h := holder{Password: s, Other: "x"}
	var logs bytes.Buffer
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("m", "pw", s, "h", h)
	slog.New(slog.NewTextHandler(&logs, nil)).Info("m", "pw", s)
	j, _ := json.Marshal(h)
	outs := []string{
		fmt.Sprint(s), fmt.Sprintf("%v %+v %#v %s %q %x %d", s, s, s, s, s, s, s),
		fmt.Sprintf("%v %+v %#v", h, h, h), string(j), logs.String(),
		fmt.Errorf("wrap: %v: %w", s, errors.New("cause")).Error(),
	}
	for _, o := range outs {
		if strings.Contains(o, raw) || !strings.Contains(o, secret.Redacted) {
			t.Fatalf("secret printed or not redacted: %s", o)
		}
	}
	if s.Reveal() != raw || s.Len() != len(raw) || s.Empty() || !s.Equal(secret.New(raw)) || s.Equal(secret.New("other")) {
		t.Fatal("accessors")
	}
	var back secret.String
	if err := back.UnmarshalText([]byte(raw)); err != nil || !back.Equal(s) {
		t.Fatal("UnmarshalText")
	}
}
