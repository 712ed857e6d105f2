package handoff

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"
	"unicode"

	"github.com/resetbot/resetbot/core/audit"
	"github.com/resetbot/resetbot/core/store"
)

// Defaults and limits of Options.
const (
	DefaultTTL             = 24 * time.Hour
	DefaultRetention       = 24 * time.Hour
	DefaultCodeTTL         = 10 * time.Minute
	MaxCodeTTL             = 10 * time.Minute
	DefaultCodeDigits      = 10
	DefaultMaxCodeFailures = 50
)

// Options configures a Store. Zero values take the defaults.
type Options struct {
	// TTL is how long a handoff may stay open before it expires (24h).
	TTL time.Duration
	// Retention is how long a record stays readable after TTL (24h), so an
	// ITSM can still read the final status.
	Retention time.Duration
	// CodeTTL is the life of a phone handoff code (10m, never more).
	CodeTTL time.Duration
	// CodeDigits is the length of phone handoff codes (10; 10 to 12). It must
	// differ from the length of every identifier a caller types at the same
	// prompt (8-digit employee numbers): a code of an identifier's length
	// would collide with it and spend the shared wrong-code budget.
	CodeDigits int
	// MaxCodeFailures is how many wrong codes, all callers together, are
	// accepted per CodeTTL window before RedeemCode answers ErrThrottled (50).
	// With 10 digits and n live codes a guesser wins with odds of at most
	// MaxCodeFailures·n/10¹⁰ per window.
	MaxCodeFailures int
	// Clock defaults to time.Now.
	Clock func() time.Time
	// Rand defaults to crypto/rand.Reader; it makes IDs and codes.
	Rand io.Reader
	// Audit receives handoff events; default audit.Discard.
	Audit audit.Sink
	// Terminal, when set, is told once per handoff that reached a terminal
	// status, from the Update (or expiry) that made it terminal.
	Terminal TerminalHook
	// Changed, when set, is told of every status change (before Terminal).
	Changed ChangeHook
	// Log defaults to slog.Default().
	Log *slog.Logger
}

// Store keeps handoffs in a store.Store. It is safe for concurrent use by
// many goroutines and replicas sharing the store.
type Store struct {
	st   store.Store
	key  []byte
	opts Options
}

// NewStore returns a Store on st. hmacKey keys the HMAC of handoff codes; it
// must be at least 16 bytes (derive it from the configured HMAC key). NewStore
// panics on a shorter key: that is a wiring mistake, not a runtime condition.
func NewStore(st store.Store, hmacKey []byte, opts Options) *Store {
	if len(hmacKey) < 16 {
		panic("handoff: HMAC key shorter than 16 bytes")
	}
	if opts.TTL <= 0 {
		opts.TTL = DefaultTTL
	}
	if opts.Retention <= 0 {
		opts.Retention = DefaultRetention
	}
	if opts.CodeTTL <= 0 {
		opts.CodeTTL = DefaultCodeTTL
	}
	opts.CodeTTL = min(opts.CodeTTL, MaxCodeTTL)
	if opts.CodeDigits < 10 || opts.CodeDigits > 12 {
		opts.CodeDigits = DefaultCodeDigits
	}
	if opts.MaxCodeFailures <= 0 {
		opts.MaxCodeFailures = DefaultMaxCodeFailures
	}
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	if opts.Rand == nil {
		opts.Rand = rand.Reader
	}
	if opts.Audit == nil {
		opts.Audit = audit.Discard
	}
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	return &Store{st: st, key: append([]byte(nil), hmacKey...), opts: opts}
}

// record is the stored form: the handoff plus the HMAC of its live code.
type record struct {
	H Handoff `json:"h"`
	// CodeMAC is the hex HMAC of the live phone code, never the code.
	CodeMAC string `json:"code_mac,omitempty"`
	// ReadbackMAC is the hex HMAC of the phrase the person was shown for the
	// caller to read back to the agent (verify handoffs), never the phrase.
	ReadbackMAC string `json:"readback_mac,omitempty"`
	// ReadbackTries counts wrong read-backs entered by agents.
	ReadbackTries int `json:"readback_tries,omitempty"`
}

const (
	keyPrefix     = "handoff:"
	codePrefix    = "handoff:code:"
	codeFailKey   = "handoff:codefail"
	maxFieldBytes = 256
	maxCASTries   = 16
)

// Create stores a new handoff and returns it with its ID, status pending and
// times set. ID, Status, times and Events of h are ignored. It returns
// ErrInvalid for an unknown action or channel, an empty or malformed user or
// requester.
func (s *Store) Create(ctx context.Context, h Handoff) (Handoff, error) {
	if !h.Action.Valid() || !ValidChannel(h.Channel) || !validText(h.User, true) || !validText(h.Requester, true) {
		return Handoff{}, ErrInvalid
	}
	now := s.opts.Clock().UTC()
	h.Status, h.Created, h.Updated = StatusPending, now, now
	h.Factor, h.Reason, h.Ref = "", "", ""
	h.Events = []Event{{Time: now, Status: StatusPending}}
	for range 4 {
		id, err := s.newID()
		if err != nil {
			return Handoff{}, err
		}
		h.ID = id
		b, err := json.Marshal(record{H: h})
		if err != nil {
			return Handoff{}, fmt.Errorf("handoff: encode: %w", err)
		}
		_, err = s.st.CompareAndSwap(ctx, keyPrefix+id, 0, b, s.opts.TTL+s.opts.Retention)
		if errors.Is(err, store.ErrConflict) {
			continue // 2^-128: only a broken Rand gets here
		}
		if err != nil {
			return Handoff{}, fmt.Errorf("handoff: create: %w", err)
		}
		s.audit(ctx, h, audit.Event{Name: NameCreated, Outcome: audit.OutcomeSuccess})
		return h, nil
	}
	return Handoff{}, errors.New("handoff: random source repeats itself")
}

// Get returns the handoff with id, or ErrNotFound. A handoff past its TTL that
// never finished is reported (and recorded) as expired.
func (s *Store) Get(ctx context.Context, id string) (Handoff, error) {
	r, _, err := s.load(ctx, id)
	if err != nil {
		return Handoff{}, err
	}
	if s.overdue(r.H) {
		return s.expire(ctx, id)
	}
	return r.H, nil
}

// Update records a status report: it appends ev (its Time set from the
// clock) and sets the status, and the factor, reason and ref when given. It
// returns ErrFinal once the handoff is terminal (terminal statuses are final;
// the first terminal report wins), ErrInvalid for pending or an unknown
// status, and ErrNotFound. A report that would move the handoff backwards (a
// late "started" after "verified") is ignored and the current record returned.
// When the status becomes terminal, Options.Terminal is called once.
func (s *Store) Update(ctx context.Context, id string, ev Event) (Handoff, error) {
	return s.update(ctx, id, ev, "")
}

// update is Update, applied only while the status is onlyFrom when that is set.
func (s *Store) update(ctx context.Context, id string, ev Event, onlyFrom Status) (Handoff, error) {
	if !ev.Status.Valid() || ev.Status == StatusPending ||
		!validText(ev.Ref, false) || !validText(ev.Factor, false) || !validText(ev.Reason, false) {
		return Handoff{}, ErrInvalid
	}
	if s.isOverdue(ctx, id) {
		if _, err := s.expire(ctx, id); err != nil && !errors.Is(err, ErrFinal) {
			return Handoff{}, err
		}
		return Handoff{}, ErrFinal
	}
	changed := false
	r, err := s.mutate(ctx, id, func(r *record) error {
		changed = false
		switch {
		case r.H.Status.Terminal():
			return ErrFinal
		case ev.Status.rank() < r.H.Status.rank(), onlyFrom != "" && r.H.Status != onlyFrom:
			return errUnchanged
		}
		s.apply(r, ev)
		changed = true
		return nil
	})
	if err != nil {
		return Handoff{}, err
	}
	if changed {
		s.changed(ctx, r)
	}
	return r.H, nil
}

// apply appends ev to r, bounded, and sets the status and details.
func (s *Store) apply(r *record, ev Event) {
	ev.Time = s.opts.Clock().UTC()
	h := &r.H
	h.Events = append(h.Events, ev)
	if n := len(h.Events); n > MaxEvents {
		h.Events = append([]Event(nil), h.Events[n-MaxEvents:]...)
	}
	h.Status, h.Updated = ev.Status, ev.Time
	if ev.Factor != "" {
		h.Factor = ev.Factor
	}
	if ev.Reason != "" {
		h.Reason = ev.Reason
	}
	if ev.Ref != "" {
		h.Ref = ev.Ref
	}
	if h.Status.Terminal() {
		r.CodeMAC = "" // a finished handoff has no live code
	}
}

// changed audits a status change and fires the terminal hook.
func (s *Store) changed(ctx context.Context, r record) {
	h := r.H
	last := h.Events[len(h.Events)-1]
	s.audit(ctx, h, audit.Event{Name: NameStatus, To: string(h.Status), Ref: last.Ref,
		Factor: last.Factor, Reason: last.Reason})
	if s.opts.Changed != nil {
		s.opts.Changed.Changed(ctx, h)
	}
	if h.Status.Terminal() && s.opts.Terminal != nil {
		s.opts.Terminal.Terminal(ctx, h)
	}
}

// overdue reports whether h is open past its TTL.
func (s *Store) overdue(h Handoff) bool {
	return !h.Status.Terminal() && s.opts.Clock().After(h.Created.Add(s.opts.TTL))
}

func (s *Store) isOverdue(ctx context.Context, id string) bool {
	r, _, err := s.load(ctx, id)
	return err == nil && s.overdue(r.H)
}

// expire moves an overdue handoff to expired (once, whoever gets there first).
func (s *Store) expire(ctx context.Context, id string) (Handoff, error) {
	changed := false
	r, err := s.mutate(ctx, id, func(r *record) error {
		changed = false
		if !s.overdue(r.H) {
			return errUnchanged
		}
		s.apply(r, Event{Status: StatusExpired, Reason: "ttl"})
		changed = true
		return nil
	})
	if err != nil {
		return Handoff{}, err
	}
	if changed {
		s.changed(ctx, r)
	}
	return r.H, nil
}

// errUnchanged makes mutate return the current record without writing.
var errUnchanged = errors.New("unchanged")

// mutate applies f to the record with compare-and-swap, retrying when another
// writer got there first (f may run more than once).
func (s *Store) mutate(ctx context.Context, id string, f func(*record) error) (record, error) {
	for range maxCASTries {
		r, ver, err := s.load(ctx, id)
		if err != nil {
			return record{}, err
		}
		if err := f(&r); errors.Is(err, errUnchanged) {
			return r, nil
		} else if err != nil {
			return record{}, err
		}
		b, err := json.Marshal(r)
		if err != nil {
			return record{}, fmt.Errorf("handoff: encode: %w", err)
		}
		ttl := r.H.Created.Add(s.opts.TTL + s.opts.Retention).Sub(s.opts.Clock())
		ttl = max(ttl, time.Second) // 0 would mean "never expires"
		_, err = s.st.CompareAndSwap(ctx, keyPrefix+id, ver, b, ttl)
		if errors.Is(err, store.ErrConflict) {
			continue
		}
		if errors.Is(err, store.ErrNotFound) {
			return record{}, ErrNotFound
		}
		if err != nil {
			return record{}, fmt.Errorf("handoff: update: %w", err)
		}
		return r, nil
	}
	return record{}, fmt.Errorf("handoff: update: %w", store.ErrConflict)
}

func (s *Store) load(ctx context.Context, id string) (record, uint64, error) {
	if !validID(id) {
		return record{}, 0, ErrNotFound
	}
	rec, err := s.st.Get(ctx, keyPrefix+id)
	if errors.Is(err, store.ErrNotFound) {
		return record{}, 0, ErrNotFound
	}
	if err != nil {
		return record{}, 0, fmt.Errorf("handoff: get: %w", err)
	}
	var r record
	if err := json.Unmarshal(rec.Value, &r); err != nil {
		return record{}, 0, fmt.Errorf("handoff: decode: %w", err)
	}
	return r, rec.Version, nil
}

// newID returns 128 random bits, base64url without padding (22 characters).
func (s *Store) newID() (string, error) {
	var b [16]byte
	if _, err := io.ReadFull(s.opts.Rand, b[:]); err != nil {
		return "", fmt.Errorf("handoff: random: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}

// validID accepts only the shape newID makes, so a crafted ID never reaches
// the store as a key.
func validID(id string) bool {
	if len(id) != 22 {
		return false
	}
	_, err := base64.RawURLEncoding.DecodeString(id)
	return err == nil
}

// ValidID reports whether id has the shape of a handoff ID.
func ValidID(id string) bool { return validID(id) }

// validText accepts short printable single-line text.
func validText(v string, required bool) bool {
	if v == "" {
		return !required
	}
	return len(v) <= maxFieldBytes && strings.IndexFunc(v, func(r rune) bool {
		return !unicode.IsPrint(r) || r == unicode.ReplacementChar
	}) < 0
}

// audit writes e for h; a failure to record is logged (handoffs go on).
func (s *Store) audit(ctx context.Context, h Handoff, e audit.Event) {
	e.Channel, e.Actor, e.Flow = h.Channel, h.Requester, "handoff"
	f := map[string]string{"handoff": h.ID, "action": string(h.Action), "target": maskUser(h.User)}
	for k, v := range e.Fields {
		f[k] = v
	}
	e.Fields = f
	s.write(ctx, e)
}

// write records e; a failure to record is logged (handoffs go on).
func (s *Store) write(ctx context.Context, e audit.Event) {
	if err := s.opts.Audit.Write(ctx, e); err != nil {
		s.opts.Log.Error("handoff audit not recorded", "event", e.Name, "err", err)
	}
}

// maskUser masks an e-mail address; a login is shown as given.
func maskUser(u string) string {
	if strings.Contains(u, "@") {
		return audit.MaskEmail(u)
	}
	return u
}
