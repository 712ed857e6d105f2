package engine

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"io"
	"strconv"
	"strings"

	"github.com/resetbot/resetbot/core/audit"
)

// Session is the persisted state of one conversation. It holds state names and
// identifiers only — never a password, code or answer — and stays small (the
// Redis budget is 1 KB per session).
type Session struct {
	// ID is 128 random bits, unique per conversation; challenges are bound to it.
	ID          string `json:"id"`
	Flow        string `json:"f"`
	State       string `json:"s"`
	Channel     string `json:"c"`
	ChannelUser string `json:"cu"`
	Locale      string `json:"l,omitempty"`
	// LocaleBy says where Locale comes from; a source never gives way to
	// a weaker one (the channel's locale arrives with every turn).
	LocaleBy LocaleSource `json:"lb,omitempty"`
	Created  int64        `json:"t0"`
	Updated  int64        `json:"t"`
	// Steps counts turns, bounding a conversation's length.
	Steps int `json:"n,omitempty"`
	// Vars is flow data (user key, factors passed, attempts).
	Vars map[string]string `json:"v,omitempty"`
	// Entries counts the transitions the conversation made, so a state
	// entered again (a code challenged anew by another method) is another
	// step: buttons rendered for the earlier visit are stale.
	Entries int `json:"e,omitempty"`
}

// Get returns a flow variable.
func (s *Session) Get(k string) string { return s.Vars[k] }

// Set sets a flow variable; an empty value deletes it.
func (s *Session) Set(k, v string) {
	if v == "" {
		delete(s.Vars, k)
		return
	}
	if s.Vars == nil {
		s.Vars = map[string]string{}
	}
	s.Vars[k] = v
}

// Int returns a numeric flow variable (0 when unset).
func (s *Session) Int(k string) int {
	n, _ := strconv.Atoi(s.Vars[k])
	return n
}

// SetInt sets a numeric flow variable.
func (s *Session) SetInt(k string, n int) {
	if n == 0 {
		s.Set(k, "")
		return
	}
	s.Set(k, strconv.Itoa(n))
}

// varTrail holds the last message IDs the conversation showed, for the
// help desk's context packet; bounded so the session stays small.
const (
	varTrail  = "_m"
	trailSize = 12
)

// Trail returns the message IDs shown in earlier turns, oldest first.
func (s *Session) Trail() []string {
	if t := s.Vars[varTrail]; t != "" {
		return strings.Split(t, ",")
	}
	return nil
}

// addTrail appends message IDs to the trail, keeping the last trailSize.
func (s *Session) addTrail(ids []string) {
	t := append(s.Trail(), ids...)
	if len(t) > trailSize {
		t = t[len(t)-trailSize:]
	}
	s.Set(varTrail, strings.Join(t, ","))
}

// step names the session's current state in this conversation.
func (s *Session) step() string { return s.State + "@" + s.stepID() }

// stepID names this visit of the state in this conversation.
func (s *Session) stepID() string {
	if s.Entries == 0 {
		return s.Hash()[:10]
	}
	return s.Hash()[:10] + "." + strconv.Itoa(s.Entries)
}

// at reports whether a rendered step (or bare state name) is the current one.
func (s *Session) at(step string) bool {
	st, id, ok := strings.Cut(step, "@")
	return st == s.State && (!ok || id == s.stepID())
}

// StepState returns the state name of a Reply.Step.
func StepState(step string) string {
	st, _, _ := strings.Cut(step, "@")
	return st
}

// Hash is the session ID hashed for audit records and logs, so that a log
// reader cannot replay a session identifier.
func (s *Session) Hash() string { return audit.HashSession(s.ID) }

func (s *Session) encode() ([]byte, error) { return json.Marshal(s) }

func decodeSession(b []byte) (*Session, error) {
	s := &Session{}
	if err := json.Unmarshal(b, s); err != nil {
		return nil, err
	}
	return s, nil
}

// NewID returns 128 random bits, base64url.
func NewID(r io.Reader) (string, error) {
	var b [16]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}

// newRef returns a short reference ID people can read out to the help desk:
// 8 characters from an alphabet without look-alikes.
func newRef(r io.Reader) string {
	const alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	var b [8]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		_, _ = io.ReadFull(rand.Reader, b[:])
	}
	out := make([]byte, len(b))
	for i, v := range b {
		out[i] = alphabet[int(v)%len(alphabet)]
	}
	return string(out)
}

// LocaleSource ranks where a conversation's language comes from.
type LocaleSource uint8

// Locale sources, weakest first.
const (
	// LocaleByChannel is the chat client's locale or the phone number's language.
	LocaleByChannel LocaleSource = iota
	// LocaleByDirectory is the account's preferredLanguage, once verified.
	LocaleByDirectory
	// LocaleByUser is the user's own choice: a language word, the keypad menu.
	LocaleByUser
)
