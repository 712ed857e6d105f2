package api

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode"

	"github.com/resetbot/resetbot/core/handoff/apikey"
	"github.com/resetbot/resetbot/core/store"
)

// IdempotencyHeader lets a client retry POST /api/v1/handoffs safely: a
// repeat with the same key and body returns the first handoff instead of
// messaging the user twice.
const IdempotencyHeader = "Idempotency-Key"

// IdempotencyTTL is how long an Idempotency-Key is remembered.
const IdempotencyTTL = 24 * time.Hour

// idem is a reserved Idempotency-Key.
type idem struct {
	key, sum string
}

// replay is the outcome of reserving a key: either we own the reservation
// (id empty, code 0), or an earlier request answered (id set) or a refusal
// (code set).
type replay struct {
	id   string
	code int
	err  string
}

// reserve claims the request's Idempotency-Key for this key and body. It
// returns a nil idem when the client sent none or idempotency is off.
func (h *Handler) reserve(ctx context.Context, r *http.Request, k apikey.Key, body []byte) (*idem, replay, error) {
	v := r.Header.Get(IdempotencyHeader)
	if v == "" || h.o.Store == nil {
		return nil, replay{}, nil
	}
	if len(v) > 128 || strings.IndexFunc(v, func(c rune) bool { return !unicode.IsPrint(c) }) >= 0 {
		return nil, replay{code: http.StatusBadRequest, err: "invalid_request"}, nil
	}
	ks, bs := sha256.Sum256([]byte(v)), sha256.Sum256(body)
	in := &idem{key: "handoff:idem:" + k.ID + ":" + hex.EncodeToString(ks[:]), sum: hex.EncodeToString(bs[:16])}
	_, err := h.o.Store.CompareAndSwap(ctx, in.key, 0, []byte(in.sum+"|"), IdempotencyTTL)
	if err == nil {
		return in, replay{}, nil
	}
	if !errors.Is(err, store.ErrConflict) {
		return nil, replay{}, fmt.Errorf("idempotency: %w", err)
	}
	rec, err := h.o.Store.Get(ctx, in.key)
	if err != nil {
		return nil, replay{}, fmt.Errorf("idempotency: %w", err)
	}
	sum, id, _ := strings.Cut(string(rec.Value), "|")
	switch {
	case sum != in.sum:
		return nil, replay{code: http.StatusUnprocessableEntity, err: "idempotency_key_reused"}, nil
	case id == "":
		return nil, replay{code: http.StatusConflict, err: "idempotency_conflict"}, nil
	}
	return nil, replay{id: id}, nil
}

// settle records the handoff made under in, or releases in when none was.
func (h *Handler) settle(ctx context.Context, in *idem, id string) {
	if in == nil {
		return
	}
	var err error
	if id == "" {
		err = h.o.Store.Delete(ctx, in.key)
	} else {
		_, err = h.o.Store.Set(ctx, in.key, []byte(in.sum+"|"+id), IdempotencyTTL)
	}
	if err != nil {
		h.o.Log.Warn("idempotency key not recorded", "err", err)
	}
}
