package questions

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"golang.org/x/crypto/argon2"

	"github.com/resetbot/resetbot/core/identity"
	"github.com/resetbot/resetbot/core/secret"
	"github.com/resetbot/resetbot/core/store"
)

// Check compares one answer with the stored hash for question id of the
// user's live pick (Pick), without consuming the pick. Verified when it
// matches, Wrong when not (or malformed), Expired when there is no live pick or
// id is not in it. It hashes even when the id is not enrolled, so timing does
// not tell. identity.ErrNotEnrolled when the user has no enrollment.
//
// Check is the one-question-per-turn form of Verify for conversations, which
// cannot keep answers between turns. The caller must put every picked question
// before telling the user anything, record a failure with the regulator for
// every Wrong, and call Complete only when all picked questions were Verified:
// reporting each result as it comes would tell an attacker which answer was
// wrong.
func (q *Questions) Check(ctx context.Context, userKey, id string, answer secret.String) (identity.Result, error) {
	if err := q.ready(userKey); err != nil {
		return identity.Wrong, err
	}
	e, err := q.load(ctx, userKey)
	if err != nil {
		return identity.Wrong, err
	}
	pick, _, err := q.storedPick(ctx, userKey)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return identity.Wrong, err
	}
	live := err == nil && q.validPick(pick, q.askable(e)) && slices.Contains(pick, id)
	// Hash in every case, against a decoy when there is nothing to compare
	// with, so the time taken does not tell whether id is enrolled or picked.
	phc := q.decoy()
	if live {
		phc = e.Answers[id]
	}
	if err := q.acquire(ctx); err != nil {
		return identity.Wrong, err
	}
	ok, err := matches([]byte(normalise(answer.Reveal(), q.catalog[id].Numeric)), phc)
	q.release()
	switch {
	case err != nil:
		return identity.Wrong, err
	case !live:
		return identity.Expired, nil
	case !ok:
		return identity.Wrong, nil
	}
	return identity.Verified, nil
}

// decoy returns a well-formed PHC string at the configured costs that no
// answer matches in practice (all-zero salt and hash).
func (q *Questions) decoy() string {
	p := q.opts.Argon2
	zero := func(n uint32) string { return b64.EncodeToString(make([]byte, n)) }
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.MemoryKiB, p.Time, p.Threads, zero(p.SaltLen), zero(p.KeyLen))
}

// Complete ends a successful verification: it clears the pick so the next
// verification draws anew (as Verify does on success).
//
// Only call it once Check returned Verified for every picked question; after a
// Wrong the pick must stay, so the user is asked the same questions again.
func (q *Questions) Complete(ctx context.Context, userKey string) error {
	if err := q.ready(userKey); err != nil {
		return err
	}
	if err := q.st.Delete(ctx, pickKey(userKey)); err != nil {
		return fmt.Errorf("questions: clearing pick: %w", err)
	}
	return nil
}
