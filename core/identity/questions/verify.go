package questions

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"slices"

	"github.com/resetbot/resetbot/core/identity"
	"github.com/resetbot/resetbot/core/secret"
	"github.com/resetbot/resetbot/core/store"
)

// Pick returns the ids of the Ask questions to put to the user, in order. The
// pick is stored and returned again, across sessions and channels, until Verify
// succeeds: re-asking after a wrong answer, or starting over, must not let an
// attacker reach questions they find easier (CS-SQ "Multiple Security
// Questions"). A user with fewer askable answers than Ask gets
// identity.ErrNotEnrolled.
//
// The pick has no TTL, like the enrollment it belongs to: an expiring pick would
// hand a patient attacker a fresh draw.
func (q *Questions) Pick(ctx context.Context, userKey string) ([]string, error) {
	if err := q.ready(userKey); err != nil {
		return nil, err
	}
	e, err := q.load(ctx, userKey)
	if err != nil {
		return nil, err
	}
	ids := q.askable(e)
	if len(ids) < q.opts.Ask {
		return nil, fmt.Errorf("questions: %w: %d answers to current questions, %d needed",
			identity.ErrNotEnrolled, len(ids), q.opts.Ask)
	}
	for range maxCASRetries {
		var version uint64
		pick, rec, err := q.storedPick(ctx, userKey)
		switch {
		case err == nil && q.validPick(pick, ids):
			return pick, nil
		case err == nil:
			version = rec.Version // stale pick (catalog or enrollment changed): replace it
		case !errors.Is(err, store.ErrNotFound):
			return nil, err
		}
		pick, err = q.choose(ids)
		if err != nil {
			return nil, err
		}
		b, _ := json.Marshal(pick)
		_, err = q.st.CompareAndSwap(ctx, pickKey(userKey), version, b, 0)
		if errors.Is(err, store.ErrConflict) {
			continue // a concurrent Pick stored its own: use that one
		}
		if err != nil {
			return nil, fmt.Errorf("questions: storing pick: %w", err)
		}
		return pick, nil
	}
	return nil, fmt.Errorf("questions: storing pick: %w", store.ErrConflict)
}

// storedPick reads the current pick. A record that does not parse is returned
// as an empty pick so that Pick replaces it.
func (q *Questions) storedPick(ctx context.Context, userKey string) ([]string, store.Record, error) {
	rec, err := q.st.Get(ctx, pickKey(userKey))
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, rec, err
		}
		return nil, rec, fmt.Errorf("questions: reading pick: %w", err)
	}
	var pick []string
	if json.Unmarshal(rec.Value, &pick) != nil {
		pick = nil
	}
	return pick, rec, nil
}

func (q *Questions) validPick(pick, askable []string) bool {
	if len(pick) != q.opts.Ask {
		return false
	}
	for i, id := range pick {
		if !slices.Contains(askable, id) || slices.Contains(pick[:i], id) {
			return false
		}
	}
	return true
}

// choose draws Ask distinct ids uniformly (partial Fisher-Yates over the reader).
func (q *Questions) choose(ids []string) ([]string, error) {
	pool := slices.Clone(ids)
	for i := 0; i < q.opts.Ask; i++ {
		j, err := rand.Int(q.opts.Rand, big.NewInt(int64(len(pool)-i)))
		if err != nil {
			return nil, fmt.Errorf("questions: reading random: %w", err)
		}
		k := i + int(j.Int64())
		pool[i], pool[k] = pool[k], pool[i]
	}
	return pool[:q.opts.Ask], nil
}

// Verify checks answers (question id → answer) against the current pick: all
// picked questions must match; answers to other questions are ignored. Verified
// clears the pick, so the next verification draws anew; Wrong keeps it. Expired
// means no pick is live (call Pick first). A user without an enrollment gets
// identity.ErrNotEnrolled.
//
// Every picked answer is hashed and compared, even after a mismatch, so the time
// taken does not tell which answer was wrong.
func (q *Questions) Verify(ctx context.Context, userKey string, answers map[string]secret.String) (identity.Result, error) {
	if err := q.ready(userKey); err != nil {
		return identity.Wrong, err
	}
	e, err := q.load(ctx, userKey)
	if err != nil {
		return identity.Wrong, err
	}
	pick, _, err := q.storedPick(ctx, userKey)
	if errors.Is(err, store.ErrNotFound) {
		return identity.Expired, nil
	}
	if err != nil {
		return identity.Wrong, err
	}
	if !q.validPick(pick, q.askable(e)) {
		return identity.Expired, nil
	}
	if err := q.acquire(ctx); err != nil {
		return identity.Wrong, err
	}
	ok, err := q.compare(pick, e, answers)
	q.release()
	if err != nil || !ok {
		return identity.Wrong, err
	}
	if err := q.st.Delete(ctx, pickKey(userKey)); err != nil {
		return identity.Wrong, fmt.Errorf("questions: clearing pick: %w", err)
	}
	return identity.Verified, nil
}

// compare hashes every picked answer, even after a mismatch.
func (q *Questions) compare(pick []string, e enrollment, answers map[string]secret.String) (bool, error) {
	ok := true
	for _, id := range pick {
		a := normalise(answers[id].Reveal(), q.catalog[id].Numeric)
		m, err := matches([]byte(a), e.Answers[id])
		if err != nil {
			return false, err
		}
		ok = ok && m
	}
	return ok, nil
}
