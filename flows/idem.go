package flows

import (
	"context"
	"fmt"
	"time"

	"github.com/resetbot/resetbot/core/directory"
	"github.com/resetbot/resetbot/core/engine"
)

// A turn's directory write (a password set, an unlock) acts outside the
// store: when the turn's commit is then lost (a Redis failover before a
// replica acknowledged it), the platform delivers the same input again and
// the step runs again on the session as it was. Writing again would fail
// where it must not (OpenLDAP's pwdInHistory refusing the password just
// set), count the unlock cap twice, and notify the owner twice. So a step
// that wrote records it under the delivery, and the same delivery finding
// that record skips the write and its notices and gives the same outcome.
//
// The record is a counter in Deps.Counters (the state store), keyed by the
// action, the account and the platform delivery; without Counters or a
// delivery ID (a turn the platform never retries) nothing is recorded and
// a step runs as before. It is written after the directory write and
// before the notices, so a turn cut inside the write itself (not its
// commit) still writes again on its retry.
//
// A code sent is kept by the code method itself (code.IssueAttempt); the
// send budget it spent is recorded here (sendKey), so the retry neither
// spends it again nor refuses the person the code they already hold.

// actionKeep bounds how long a delivery's record is kept: platforms retry
// within minutes (Slack's last retry comes about 5 minutes after the event).
const actionKeep = time.Hour

// Actions recorded per delivery.
const (
	actPassword   = "password"   // a reset or change wrote the password
	actPassphrase = "passphrase" // a generated passphrase was set and sent
	actUnlock     = "unlock"     // the lockout was cleared
	actEnroll     = "enroll"     // an authenticator was bound (noticed)
)

// actionKey names the record of action done on u by this turn's delivery
// in this conversation; "" when the turn has no delivery ID. The session
// ID (kept by a retry: only the session's contents are rolled back) keeps
// a delivery ID that a channel reuses across conversations (the console
// numbers its turns from 1 at each start) from passing for a retry.
// Like the unlock cap's, the name is an HMAC (Regulator.KeyName): the store
// never holds the account, the session or the delivery in the clear.
func (d *Deps) actionKey(c *engine.Ctx, u directory.User, action string) string {
	if c.Turn.DeliveryID == "" {
		return ""
	}
	return d.Regulator.KeyName("did", action+"\x00"+userKey(u)+"\x00"+c.Session.ID+"\x00"+c.Turn.DeliveryID)
}

// alreadyDone reports whether this turn's delivery already did action on
// u (a retried delivery whose first try's commit was lost). A store error
// is returned: the turn then asks for another delivery rather than risk
// writing twice.
func (d *Deps) alreadyDone(ctx context.Context, c *engine.Ctx, u directory.User, action string) (bool, error) {
	return d.recorded(ctx, d.actionKey(c, u, action), action)
}

// markDone records that this turn's delivery did action on u. A failure is
// logged, never returned: the write stands, and the turn must say so.
func (d *Deps) markDone(ctx context.Context, c *engine.Ctx, u directory.User, action string) {
	d.record1(ctx, c, d.actionKey(c, u, action), action)
}

// sendKey names the record of a code sent for factor by this turn's
// delivery in this conversation; "" without a delivery ID. It names no
// account, so known and unknown accounts do the same work.
func (d *Deps) sendKey(c *engine.Ctx, factor string) string {
	if c.Turn.DeliveryID == "" {
		return ""
	}
	return d.Regulator.KeyName("did", "send\x00"+factor+"\x00"+c.Session.ID+"\x00"+c.Turn.DeliveryID)
}

// recorded reads the record key ("" or no Counters: none).
func (d *Deps) recorded(ctx context.Context, key, action string) (bool, error) {
	if key == "" || d.Counters == nil {
		return false, nil
	}
	n, err := d.Counters.Incr(ctx, key, 0, actionKeep)
	if err != nil {
		return false, fmt.Errorf("reading the record of %s: %w", action, err)
	}
	return n > 0, nil
}

// record1 writes the record key, logging a failure.
func (d *Deps) record1(ctx context.Context, c *engine.Ctx, key, action string) {
	if key == "" || d.Counters == nil {
		return
	}
	if _, err := d.Counters.Incr(ctx, key, 1, actionKeep); err != nil {
		d.Log.Warn("record of a delivery's action not kept; a retried delivery would act again", "ref", c.Ref, "action", action, "err", err)
	}
}
