package handoff

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"

	"github.com/resetbot/resetbot/core/audit"
	"github.com/resetbot/resetbot/core/secret"
)

// Agent-assisted verification binds the result to the caller. Verifying the
// account owner is not enough: an attacker phones the help desk as the
// victim, the real victim verifies in the DM, and the agent would see
// "verified" while talking to the attacker. So after the factors the person
// is shown a one-time phrase; the caller must read it back to the agent, who
// enters it (agent command or API). Only a match makes the handoff verified.

// ReadbackVerb starts the agent command that enters the number a caller read
// back: "confirm <handoff id> 482 913", in every chat channel.
const ReadbackVerb = "confirm"

// ParseReadbackCommand reads "confirm <handoff id> <number>" from an agent
// command's words; the number may be typed with spaces ("482 913"). The
// number comes back as a secret, so it cannot reach a log or an echo.
func ParseReadbackCommand(text string) (id string, phrase secret.String, ok bool) {
	f := strings.Fields(text)
	if len(f) < 3 || !strings.EqualFold(f[0], ReadbackVerb) || !ValidID(f[1]) {
		return "", secret.String{}, false
	}
	p := strings.Join(f[2:], "")
	if len(p) == 0 || len(p) > 16 {
		return "", secret.String{}, false
	}
	return f[1], secret.New(p), true
}

// MaxReadbackTries is how many wrong read-backs fail the handoff.
const MaxReadbackTries = 3

// Audit event names of the read-back.
const (
	NameReadbackShown     = "handoff.readback_shown"
	NameReadbackConfirmed = "handoff.readback"
)

// ReadbackResult is the outcome of an agent's read-back.
type ReadbackResult int

// Read-back outcomes.
const (
	// ReadbackWrong: the phrase did not match; the agent may try again.
	ReadbackWrong ReadbackResult = iota
	// ReadbackVerified: the caller read back the phrase; the handoff is verified.
	ReadbackVerified
	// ReadbackFailed: too many wrong phrases, or none pending; the handoff failed.
	ReadbackFailed
)

// AwaitReadback records the phrase shown to the person for handoff id (only
// its HMAC). A new phrase replaces the previous one.
func (s *Store) AwaitReadback(ctx context.Context, id string, phrase secret.String) error {
	mac := s.readbackMAC(id, phrase)
	r, err := s.mutate(ctx, id, func(r *record) error {
		if r.H.Status.Terminal() {
			return ErrFinal
		}
		r.ReadbackMAC, r.ReadbackTries = mac, 0
		return nil
	})
	if err != nil {
		return err
	}
	s.audit(ctx, r.H, audit.Event{Name: NameReadbackShown, Outcome: audit.OutcomeSuccess})
	return nil
}

// ConfirmReadback checks the phrase an agent entered for handoff id. A match
// reports the handoff verified (reason "readback"); MaxReadbackTries wrong
// phrases fail it (reason "readback_mismatch"). Spaces, dashes and case are
// ignored. It returns ErrNotFound, or ErrFinal for a finished handoff.
func (s *Store) ConfirmReadback(ctx context.Context, id string, phrase secret.String) (ReadbackResult, error) {
	mac := s.readbackMAC(id, phrase)
	var out ReadbackResult
	r, err := s.mutate(ctx, id, func(r *record) error {
		switch {
		case r.H.Status.Terminal():
			return ErrFinal
		case r.ReadbackMAC == "":
			// Nothing shown yet: the person has not verified. Counts as wrong.
			out = ReadbackWrong
			r.ReadbackTries++
		case hmac.Equal([]byte(r.ReadbackMAC), []byte(mac)):
			out = ReadbackVerified
			r.ReadbackMAC = "" // single use
			return nil
		default:
			out = ReadbackWrong
			r.ReadbackTries++
		}
		if r.ReadbackTries >= MaxReadbackTries {
			out = ReadbackFailed
			r.ReadbackMAC = ""
		}
		return nil
	})
	if err != nil {
		return ReadbackWrong, err
	}
	switch out {
	case ReadbackVerified:
		s.audit(ctx, r.H, audit.Event{Name: NameReadbackConfirmed, Outcome: audit.OutcomeSuccess})
		// Verified, then done: agent-assisted verification ends here.
		if _, err = s.Update(ctx, id, Event{Status: StatusVerified, Factor: "readback", Reason: "readback"}); err == nil {
			_, err = s.Update(ctx, id, Event{Status: StatusDone, Reason: "readback"})
		}
	case ReadbackFailed:
		s.audit(ctx, r.H, audit.Event{Name: NameReadbackConfirmed, Outcome: audit.OutcomeDenied, Reason: "readback_mismatch"})
		_, err = s.Update(ctx, id, Event{Status: StatusFailed, Reason: "readback_mismatch"})
	default:
		s.audit(ctx, r.H, audit.Event{Name: NameReadbackConfirmed, Outcome: audit.OutcomeFailure, Reason: "mismatch"})
	}
	if errors.Is(err, ErrFinal) {
		err = nil
	}
	return out, err
}

// readbackMAC keys the normalised phrase: a plain hash of a short phrase is
// reversed by trying them all.
func (s *Store) readbackMAC(id string, phrase secret.String) string {
	norm := strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' {
			return -1
		}
		return r
	}, strings.ToLower(phrase.Reveal()))
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte("handoff-readback\x00" + id + "\x00" + norm))
	return hex.EncodeToString(m.Sum(nil))
}
