package questions

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/resetbot/resetbot/core/secret"
	"github.com/resetbot/resetbot/core/store"
)

// PendingTTL is how long a pending enrollment (Stage) lives after its last
// answer. It expires rather than lingers: a half-finished enrollment is of no
// use, and every stored key but the enrollment itself must have a TTL.
const PendingTTL = 15 * time.Minute

// pendingAAD binds a pending record to its user, and apart from enrollments: a
// pending record copied over the enrollment key does not open, so Commit's
// MinEnrolled check cannot be skipped that way.
func pendingAAD(userKey string) []byte { return []byte("questions-pending\x00" + userKey) }

// Stage validates and hashes one answer (same rules as Enroll: known id,
// normalisation, MinAnswerLen, numeric rules, duplicate answers refused) into a
// pending enrollment record, sealed with the keyring like enrollments, with a
// 15-minute TTL; a later Stage for the same id replaces it.
//
// Each Stage restarts the PendingTTL. Refusals wrap identity.ErrInvalidInput
// and hold an *AnswerError naming the question. Duplicates are found by
// hashing the answer with each other staged answer's salt, so Stage costs one
// Argon2id hash per answer already staged, plus one.
func (q *Questions) Stage(ctx context.Context, userKey, id string, answer secret.String) error {
	if err := q.ready(userKey); err != nil {
		return err
	}
	a, err := q.checkOne(id, answer)
	if err != nil {
		return fmt.Errorf("questions: %w", err)
	}
	phc, err := q.hashOne(ctx, []byte(a))
	if err != nil {
		return err
	}
	dups := make(map[string]bool) // PHC string → answer matches it; kept across retries
	for range maxCASRetries {
		p, version, err := q.loadPending(ctx, userKey)
		if err != nil {
			return err
		}
		for other, otherPHC := range p.Answers {
			if other == id {
				continue // replaced below
			}
			dup, seen := dups[otherPHC]
			if !seen {
				if dup, err = q.matchOne(ctx, []byte(a), otherPHC); err != nil {
					return err
				}
				dups[otherPHC] = dup
			}
			if dup {
				return fmt.Errorf("questions: %w", &AnswerError{QuestionID: id, Err: ErrDuplicateAnswer})
			}
		}
		p.Answers[id] = phc
		ct, err := q.seal(p, pendingAAD(userKey))
		if err != nil {
			return err
		}
		_, err = q.st.CompareAndSwap(ctx, pendingKey(userKey), version, ct, PendingTTL)
		if errors.Is(err, store.ErrConflict) {
			continue // a concurrent Stage added an answer: check against it too
		}
		if err != nil {
			return fmt.Errorf("questions: storing pending enrollment: %w", err)
		}
		return nil
	}
	return fmt.Errorf("questions: storing pending enrollment: %w", store.ErrConflict)
}

// hashOne hashes one normalised answer within the concurrency bound. Salts
// come from q.opts.Rand.
func (q *Questions) hashOne(ctx context.Context, a []byte) (string, error) {
	if err := q.acquire(ctx); err != nil {
		return "", err
	}
	defer q.release()
	return hash(a, q.opts.Argon2, q.opts.Rand)
}

// matchOne compares a normalised answer with a PHC string within the
// concurrency bound.
func (q *Questions) matchOne(ctx context.Context, a []byte, phc string) (bool, error) {
	if err := q.acquire(ctx); err != nil {
		return false, err
	}
	defer q.release()
	return matches(a, phc)
}

// loadPending opens the user's pending enrollment with its version, or an
// empty one with version 0 when there is none.
func (q *Questions) loadPending(ctx context.Context, userKey string) (enrollment, uint64, error) {
	rec, err := q.st.Get(ctx, pendingKey(userKey))
	if errors.Is(err, store.ErrNotFound) {
		return enrollment{Version: 1, Answers: map[string]string{}}, 0, nil
	}
	if err != nil {
		return enrollment{}, 0, fmt.Errorf("questions: reading pending enrollment: %w", err)
	}
	p, err := q.open(rec.Value, pendingAAD(userKey))
	if err != nil {
		return enrollment{}, 0, err
	}
	if p.Answers == nil {
		p.Answers = map[string]string{}
	}
	return p, rec.Version, nil
}

// Staged lists the question ids answered in the pending enrollment.
//
// The ids are sorted and limited to the current catalog; nil when nothing is
// pending.
func (q *Questions) Staged(ctx context.Context, userKey string) ([]string, error) {
	if err := q.ready(userKey); err != nil {
		return nil, err
	}
	p, version, err := q.loadPending(ctx, userKey)
	if err != nil || version == 0 {
		return nil, err
	}
	return q.askable(p), nil
}

// Commit turns the pending enrollment into the user's enrollment (replacing
// an older one) when it holds at least MinEnrolled answers, and deletes the
// pending record; ErrTooFewAnswers otherwise. Concurrent Commits: one wins.
//
// The losers, like a Commit with nothing pending, get ErrTooFewAnswers. Like
// Enroll, committing resets the question pick. Answers to questions dropped
// from the catalog since they were staged neither count nor are kept.
func (q *Questions) Commit(ctx context.Context, userKey string) error {
	if err := q.ready(userKey); err != nil {
		return err
	}
	// Check first, so that a refused Commit leaves the pending record alone.
	p, _, err := q.loadPending(ctx, userKey)
	if err != nil {
		return err
	}
	if err := q.enough(p); err != nil {
		return err
	}
	// Take hands the record to exactly one of concurrent Commits.
	rec, err := q.st.Take(ctx, pendingKey(userKey))
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("questions: %w: nothing pending", ErrTooFewAnswers)
	}
	if err != nil {
		return fmt.Errorf("questions: taking pending enrollment: %w", err)
	}
	if p, err = q.open(rec.Value, pendingAAD(userKey)); err != nil {
		return err
	}
	if err := q.enough(p); err != nil {
		// The record expired and a new one began between the check and Take:
		// put it back if nothing has replaced it since.
		if _, cerr := q.st.CompareAndSwap(ctx, pendingKey(userKey), 0, rec.Value, PendingTTL); cerr != nil && !errors.Is(cerr, store.ErrConflict) {
			return fmt.Errorf("questions: restoring pending enrollment: %w", cerr)
		}
		return err
	}
	e := enrollment{Version: 1, Answers: make(map[string]string, len(p.Answers))}
	for _, id := range q.askable(p) {
		e.Answers[id] = p.Answers[id]
	}
	return q.store(ctx, userKey, e)
}

// enough refuses a pending enrollment with fewer than MinEnrolled answers to
// current catalog questions.
func (q *Questions) enough(p enrollment) error {
	if n := len(q.askable(p)); n < q.opts.MinEnrolled {
		return fmt.Errorf("questions: %w: %d of %d", ErrTooFewAnswers, n, q.opts.MinEnrolled)
	}
	return nil
}
