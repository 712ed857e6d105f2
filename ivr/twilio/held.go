package twilio

import (
	"sync"
	"time"

	"github.com/resetbot/resetbot/core/secret"
)

// Keys pressed during a turn that could not run (the store unavailable) are
// kept here, in this process's memory only, for the redirect that resumes
// the turn: keypad input can be a one-time code, and codes never go into
// URLs. A redirect that reaches another replica finds nothing and the
// question is asked again (never a key press taken for another question).
const (
	heldKeep = 2 * time.Minute
	heldMax  = 4096
)

type heldKeys struct {
	mu sync.Mutex
	m  map[string]heldEntry
}

type heldEntry struct {
	keys secret.String
	exp  time.Time
}

// put keeps keys for the redirect resuming delivery id. At heldMax entries
// the expired ones are dropped; if none is, the keys are not kept.
func (k *heldKeys) put(id string, keys secret.String, now time.Time) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.m == nil {
		k.m = map[string]heldEntry{}
	}
	if len(k.m) >= heldMax {
		for i, e := range k.m {
			if now.After(e.exp) {
				delete(k.m, i)
			}
		}
		if len(k.m) >= heldMax {
			return
		}
	}
	k.m[id] = heldEntry{keys: keys, exp: now.Add(heldKeep)}
}

// take returns and forgets the keys kept for delivery id.
func (k *heldKeys) take(id string, now time.Time) (secret.String, bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	e, ok := k.m[id]
	if !ok {
		return secret.String{}, false
	}
	delete(k.m, id)
	return e.keys, now.Before(e.exp)
}
