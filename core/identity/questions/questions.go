// Package questions enrolls and checks security questions.
//
// Security questions are knowledge-based authentication, which ASVS 2.5.2 and
// NIST 63B reject as an authenticator: resetbot offers them only as an extra step
// after a possession factor, never alone and never as a counted factor (that rule
// lives in the policy engine). This package makes them as safe as they can be:
// answers are treated like passwords (normalised, then Argon2id with a per-answer
// salt, stored as PHC strings), the whole record is additionally sealed with the
// keyring under the user's key, and the set of questions asked stays the same
// until it is answered, so repeated attempts do not walk through the catalog.
//
// Two forms serve two kinds of caller. Enroll and Verify take every answer at
// once. Conversations, which ask one question per turn and may keep no secret
// between turns, use Stage, Staged and Commit to enroll (answers wait, hashed
// and sealed, in a pending record with a PendingTTL) and Pick, Check and
// Complete to verify.
package questions

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"unicode/utf8"

	"github.com/resetbot/resetbot/core/crypt"
	"github.com/resetbot/resetbot/core/identity"
	"github.com/resetbot/resetbot/core/secret"
	"github.com/resetbot/resetbot/core/store"
)

// Defaults for Options.
const (
	DefaultAsk          = 2
	DefaultMinEnrolled  = 3
	DefaultMinAnswerLen = 3
)

const maxCASRetries = 16

// Question is an entry of the catalog.
type Question struct {
	// ID is stable: it names the question in stored enrollments.
	ID string
	// MessageID is the catalog message that asks the question (text and voice variants).
	MessageID string
	// Numeric questions take digits only, so they can be answered on a phone keypad.
	Numeric bool
}

// Options configures Questions. Zero fields take the defaults.
type Options struct {
	// Catalog lists the questions users may choose from.
	Catalog []Question
	// Ask is how many questions are asked at once (k, default 2).
	Ask int
	// MinEnrolled is how many questions a user must answer to enroll (n, default 3, ≥ Ask).
	MinEnrolled int
	// MinAnswerLen is the shortest accepted answer in characters after
	// normalisation (default 3).
	MinAnswerLen int
	// Argon2 holds the hashing costs; zero fields take DefaultArgon2's.
	Argon2 Argon2Params
	// MaxConcurrentHashes bounds how many Argon2id hashes run at once in this
	// process (default 2). Each takes MemoryKiB of memory, so without a bound a
	// burst of verifications could exhaust memory; extra calls wait their turn
	// or give up when their context ends.
	MaxConcurrentHashes int
	// Rand is the source of salts and of question picks (default crypto/rand.Reader).
	Rand io.Reader
}

// Questions enrolls and verifies security answers. It is safe for concurrent use.
type Questions struct {
	st      store.Store
	kr      *crypt.Keyring
	opts    Options
	catalog map[string]Question
	hashing chan struct{} // semaphore, one token per running hash
	err     error
}

// Enrollment errors. Each wraps identity.ErrInvalidInput; Enroll returns them
// inside *AnswerError values (joined with errors.Join) naming the question.
var (
	ErrTooFewAnswers   = fmt.Errorf("%w: too few answers", identity.ErrInvalidInput)
	ErrUnknownQuestion = fmt.Errorf("%w: unknown question", identity.ErrInvalidInput)
	ErrAnswerTooShort  = fmt.Errorf("%w: answer too short", identity.ErrInvalidInput)
	ErrNotNumeric      = fmt.Errorf("%w: answer must be digits", identity.ErrInvalidInput)
	ErrDuplicateAnswer = fmt.Errorf("%w: same answer to two questions", identity.ErrInvalidInput)
)

// AnswerError says which question's answer was refused at enrollment. It never
// holds the answer.
type AnswerError struct {
	QuestionID string
	Err        error
}

// Error implements error.
func (e *AnswerError) Error() string { return fmt.Sprintf("question %q: %v", e.QuestionID, e.Err) }

// Unwrap returns the reason, one of the Err* sentinels.
func (e *AnswerError) Unwrap() error { return e.Err }

// New returns Questions keeping records in st, sealed with kr. Invalid options
// are reported by Validate and by every method.
func New(st store.Store, kr *crypt.Keyring, opts Options) *Questions {
	if opts.Ask == 0 {
		opts.Ask = DefaultAsk
	}
	if opts.MinEnrolled == 0 {
		opts.MinEnrolled = max(DefaultMinEnrolled, opts.Ask)
	}
	if opts.MinAnswerLen == 0 {
		opts.MinAnswerLen = DefaultMinAnswerLen
	}
	opts.Argon2 = opts.Argon2.withDefaults()
	if opts.MaxConcurrentHashes <= 0 {
		opts.MaxConcurrentHashes = 2
	}
	if opts.Rand == nil {
		opts.Rand = rand.Reader
	}
	q := &Questions{st: st, kr: kr, opts: opts, catalog: make(map[string]Question, len(opts.Catalog)),
		hashing: make(chan struct{}, opts.MaxConcurrentHashes)}
	q.err = q.validate()
	return q
}

func (q *Questions) validate() error {
	var errs []error
	if q.st == nil {
		errs = append(errs, errors.New("no store"))
	}
	if q.kr == nil {
		errs = append(errs, errors.New("no keyring"))
	}
	for _, c := range q.opts.Catalog {
		if c.ID == "" || c.MessageID == "" {
			errs = append(errs, fmt.Errorf("question %q needs an id and a message id", c.ID))
		}
		if _, dup := q.catalog[c.ID]; dup {
			errs = append(errs, fmt.Errorf("question %q listed twice", c.ID))
		}
		q.catalog[c.ID] = c
	}
	if q.opts.Ask < 1 || q.opts.MinEnrolled < q.opts.Ask || q.opts.MinEnrolled > len(q.catalog) {
		errs = append(errs, fmt.Errorf("need 1 <= ask (%d) <= min enrolled (%d) <= catalog size (%d)",
			q.opts.Ask, q.opts.MinEnrolled, len(q.catalog)))
	}
	if q.opts.MinAnswerLen < 1 {
		errs = append(errs, errors.New("min answer length must be at least 1"))
	}
	if err := q.opts.Argon2.validate(); err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return fmt.Errorf("questions: %w: %w", identity.ErrInvalidConfig, errors.Join(errs...))
	}
	return nil
}

// Validate reports invalid options (startup check).
func (q *Questions) Validate() error { return q.err }

// Factor returns identity.FactorQuestions.
func (q *Questions) Factor() identity.Factor { return identity.FactorQuestions }

// Catalog returns the configured questions, in configuration order.
func (q *Questions) Catalog() []Question { return append([]Question(nil), q.opts.Catalog...) }

func (q *Questions) ready(userKey string) error {
	if q.err != nil {
		return q.err
	}
	if userKey == "" {
		return fmt.Errorf("questions: %w: empty user key", identity.ErrInvalidInput)
	}
	return nil
}

func enrollKey(userKey string) string  { return "questions:enrollment:" + userKey }
func pickKey(userKey string) string    { return "questions:pick:" + userKey }
func pendingKey(userKey string) string { return "questions:pending:" + userKey }

// aad binds a sealed record to its user: another user's record does not open.
func aad(userKey string) []byte { return []byte("questions\x00" + userKey) }

// enrollment is the sealed record: question id → PHC string.
type enrollment struct {
	Version int               `json:"v"`
	Answers map[string]string `json:"answers"`
}

// Enroll replaces the user's answers. It needs at least MinEnrolled answers to
// catalog questions, each at least MinAnswerLen characters after normalisation
// (digits only for numeric questions), no two alike. Refusals wrap
// identity.ErrInvalidInput: ErrTooFewAnswers, or *AnswerError values naming each
// refused question. Enrolling resets the question pick.
func (q *Questions) Enroll(ctx context.Context, userKey string, answers map[string]secret.String) error {
	if err := q.ready(userKey); err != nil {
		return err
	}
	normed, err := q.check(answers)
	if err != nil {
		return err
	}
	rec := enrollment{Version: 1, Answers: make(map[string]string, len(normed))}
	if err := q.acquire(ctx); err != nil {
		return err
	}
	for id, a := range normed {
		phc, err := hash([]byte(a), q.opts.Argon2, q.opts.Rand)
		if err != nil {
			q.release()
			return err
		}
		rec.Answers[id] = phc
	}
	q.release()
	return q.store(ctx, userKey, rec)
}

// store seals rec as the user's enrollment and resets the pick.
func (q *Questions) store(ctx context.Context, userKey string, rec enrollment) error {
	ct, err := q.seal(rec, aad(userKey))
	if err != nil {
		return err
	}
	if _, err := q.st.Set(ctx, enrollKey(userKey), ct, 0); err != nil {
		return fmt.Errorf("questions: storing enrollment: %w", err)
	}
	if err := q.st.Delete(ctx, pickKey(userKey)); err != nil {
		return fmt.Errorf("questions: resetting pick: %w", err)
	}
	return nil
}

// seal encodes and seals a record under the keyring, bound to ad.
func (q *Questions) seal(rec enrollment, ad []byte) ([]byte, error) {
	pt, err := json.Marshal(rec)
	if err != nil {
		return nil, fmt.Errorf("questions: encoding record: %w", err)
	}
	ct, err := q.kr.Seal(pt, ad)
	if err != nil {
		return nil, fmt.Errorf("questions: sealing record: %w", err)
	}
	return ct, nil
}

// open opens and decodes a sealed record bound to ad.
func (q *Questions) open(ct, ad []byte) (enrollment, error) {
	pt, err := q.kr.Open(ct, ad)
	if err != nil {
		return enrollment{}, fmt.Errorf("questions: opening record: %w", err)
	}
	var e enrollment
	if err := json.Unmarshal(pt, &e); err != nil || e.Version != 1 {
		return enrollment{}, errors.New("questions: corrupt record")
	}
	return e, nil
}

// check validates and normalises answers, collecting every refusal.
func (q *Questions) check(answers map[string]secret.String) (map[string]string, error) {
	if len(answers) < q.opts.MinEnrolled {
		return nil, fmt.Errorf("questions: %w: %d of %d", ErrTooFewAnswers, len(answers), q.opts.MinEnrolled)
	}
	ids := make([]string, 0, len(answers))
	for id := range answers {
		ids = append(ids, id)
	}
	sort.Strings(ids) // stable error order
	var errs []error
	normed := make(map[string]string, len(answers))
	seen := make(map[string]string, len(answers))
	for _, id := range ids {
		a, err := q.checkOne(id, answers[id])
		switch {
		case err != nil:
			errs = append(errs, err)
		case seen[a] != "":
			errs = append(errs, &AnswerError{QuestionID: id, Err: ErrDuplicateAnswer})
		default:
			seen[a], normed[id] = id, a
		}
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("questions: %w", errors.Join(errs...))
	}
	return normed, nil
}

// checkOne validates and normalises one answer, or returns an *AnswerError.
func (q *Questions) checkOne(id string, answer secret.String) (string, error) {
	c, ok := q.catalog[id]
	if !ok {
		return "", &AnswerError{QuestionID: id, Err: ErrUnknownQuestion}
	}
	a := normalise(answer.Reveal(), c.Numeric)
	switch {
	case utf8.RuneCountInString(a) < q.opts.MinAnswerLen:
		return "", &AnswerError{QuestionID: id, Err: ErrAnswerTooShort}
	case c.Numeric && !allDigits(a):
		return "", &AnswerError{QuestionID: id, Err: ErrNotNumeric}
	}
	return a, nil
}

// load opens the user's enrollment, or returns identity.ErrNotEnrolled.
func (q *Questions) load(ctx context.Context, userKey string) (enrollment, error) {
	rec, err := q.st.Get(ctx, enrollKey(userKey))
	if errors.Is(err, store.ErrNotFound) {
		return enrollment{}, fmt.Errorf("questions: %w", identity.ErrNotEnrolled)
	}
	if err != nil {
		return enrollment{}, fmt.Errorf("questions: reading enrollment: %w", err)
	}
	return q.open(rec.Value, aad(userKey))
}

// Enrolled returns the sorted ids of the catalog questions the user answered,
// or nil when the user has no enrollment.
func (q *Questions) Enrolled(ctx context.Context, userKey string) ([]string, error) {
	if err := q.ready(userKey); err != nil {
		return nil, err
	}
	e, err := q.load(ctx, userKey)
	if errors.Is(err, identity.ErrNotEnrolled) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return q.askable(e), nil
}

// askable returns the enrolled ids still in the catalog, sorted.
func (q *Questions) askable(e enrollment) []string {
	ids := make([]string, 0, len(e.Answers))
	for id := range e.Answers {
		if _, ok := q.catalog[id]; ok {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	return ids
}

// Revoke removes the user's answers, pick and pending enrollment. Revoking a user without an
// enrollment is not an error.
func (q *Questions) Revoke(ctx context.Context, userKey string) error {
	if err := q.ready(userKey); err != nil {
		return err
	}
	for _, k := range []string{enrollKey(userKey), pickKey(userKey), pendingKey(userKey)} {
		if err := q.st.Delete(ctx, k); err != nil {
			return fmt.Errorf("questions: revoking: %w", err)
		}
	}
	return nil
}

// acquire takes a hashing slot, or fails when ctx ends first.
func (q *Questions) acquire(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("questions: waiting to hash: %w", err)
	}
	select {
	case q.hashing <- struct{}{}:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("questions: waiting to hash: %w", ctx.Err())
	}
}

func (q *Questions) release() { <-q.hashing }
