package redis

import (
	"context"
	"time"

	"github.com/resetbot/resetbot/core/store"
)

var _ store.Turns = (*Store)(nil)

// luaPut is the record write shared by the turn scripts: a hash {v, n} with
// the version bumped and the ttl in ms ("0": none).
const luaPut = `
local function put(k, v, ms)
  redis.call('HINCRBY', k, 'n', 1)
  redis.call('HSET', k, 'v', v)
  if ms == '0' then redis.call('PERSIST', k) else redis.call('PEXPIRE', k, ms) end
end
`

// acquireScript is store.DecideAcquire and the claim, lease and session read
// in one step. KEYS: session, lease[, delivery]. ARGV: owner, lease ms.
// It returns {1, value, version} (acquired), {2, outcome} (done), {3}
// (running) or {4} (busy).
var acquireScript = newTurnScript(luaPut + `
local owner = ARGV[1]
if #KEYS > 2 then
  local d = redis.call('HGET', KEYS[3], 'v')
  if d then
    local m = string.sub(d, 1, 1)
    if m == 'd' then return {2, string.sub(d, 2)} end
    if m == 'p' and string.sub(d, 2) ~= owner then return {3} end
  end
end
local l = redis.call('HGET', KEYS[2], 'v')
if l and string.sub(l, 1, 1) == 'l' and string.sub(l, 2) ~= owner then return {4} end
if #KEYS > 2 then put(KEYS[3], 'p' .. owner, ARGV[2]) end
put(KEYS[2], 'l' .. owner, ARGV[2])
local s = redis.call('HMGET', KEYS[1], 'v', 'n')
return {1, s[1], s[2]}`)

// renewScript extends the owner's lease and pending claim. KEYS as acquire;
// ARGV: owner, lease ms. It returns 1, or 0 when the lease is lost.
var renewScript = newTurnScript(`
if redis.call('HGET', KEYS[2], 'v') ~= 'l' .. ARGV[1] then return 0 end
redis.call('PEXPIRE', KEYS[2], ARGV[2])
if #KEYS > 2 and redis.call('HGET', KEYS[3], 'v') == 'p' .. ARGV[1] then
  redis.call('PEXPIRE', KEYS[3], ARGV[2])
end
return 1`)

// commitScript is store.DecideCommit and the commit in one step. KEYS as
// acquire. ARGV: owner, op (0 keep, 1 put, 2 delete), expect, value, ttl ms,
// has outcome (0/1), outcome, keep ms, committed-keep ms. It returns 0
// (applied), 1 (repeated), 2 (lease lost) or 3 (conflict, released).
var commitScript = newTurnScript(luaPut + `
local owner = ARGV[1]
local l = redis.call('HGET', KEYS[2], 'v')
if l then
  if l == 'c' .. owner then return 1 end
  if string.sub(l, 1, 1) == 'l' and string.sub(l, 2) ~= owner then return 2 end
end
if ARGV[2] ~= '0' then
  if (redis.call('HGET', KEYS[1], 'n') or '0') ~= ARGV[3] then
    if l == 'l' .. owner then redis.call('UNLINK', KEYS[2]) end
    if #KEYS > 2 and redis.call('HGET', KEYS[3], 'v') == 'p' .. owner then redis.call('UNLINK', KEYS[3]) end
    return 3
  end
  if ARGV[2] == '1' then put(KEYS[1], ARGV[4], ARGV[5]) else redis.call('UNLINK', KEYS[1]) end
end
if #KEYS > 2 then
  if ARGV[6] == '1' then
    put(KEYS[3], 'd' .. ARGV[7], ARGV[8])
  elseif redis.call('HGET', KEYS[3], 'v') == 'p' .. owner then
    redis.call('UNLINK', KEYS[3])
  end
end
put(KEYS[2], 'c' .. owner, ARGV[9])
return 0`)

// commitRetryFor is how long a commit is retried: retryFor, and at least
// commitRetryFor unless retries are off.
func (s *Store) commitRetryFor() time.Duration {
	if s.retryFor <= 0 {
		return 0
	}
	return max(s.retryFor, commitRetryFor)
}

// AcquireTurn implements store.Turns with one script call. Acquiring is
// idempotent for one owner, so a call that failed on the way is retried
// (within ctx) across a failover.
func (s *Store) AcquireTurn(ctx context.Context, k store.TurnKeys, lease time.Duration) (store.Acquisition, error) {
	if err := store.CheckTurn(k, lease); err != nil {
		return store.Acquisition{}, err
	}
	ms, err := ttlArg(ctx, lease)
	if err != nil {
		return store.Acquisition{}, err
	}
	call := s.newTurnCall(acquireScript, k, false).num(ms)
	var vals []any
	err = s.retry(ctx, s.retryFor, func() error {
		c, err := s.runAcked(ctx, acquireScript, call)
		if err != nil {
			return err
		}
		vals, err = c.Slice()
		return err
	})
	if err != nil {
		return store.Acquisition{}, mapErr(err)
	}
	return acquisition(vals)
}

func acquisition(vals []any) (store.Acquisition, error) {
	if len(vals) == 0 {
		return store.Acquisition{}, errUnavailable(errMalformed)
	}
	code, _ := vals[0].(int64)
	a := store.Acquisition{State: store.Acquired(code)}
	switch a.State {
	case store.TurnAcquired:
		if len(vals) == 3 && vals[2] != nil {
			rec, err := record(vals[1:])
			if err != nil {
				return a, err
			}
			a.Session = rec
		}
	case store.TurnDone:
		out, _ := vals[1].(string)
		a.Outcome = []byte(out)
	case store.TurnRunning, store.TurnBusy:
	default:
		return a, errUnavailable(errMalformed)
	}
	return a, nil
}

// RenewTurn implements store.Turns; it is idempotent and retried.
func (s *Store) RenewTurn(ctx context.Context, k store.TurnKeys, lease time.Duration) error {
	if err := store.CheckTurn(k, lease); err != nil {
		return err
	}
	ms, err := ttlArg(ctx, lease)
	if err != nil {
		return err
	}
	call := s.newTurnCall(renewScript, k, false).num(ms)
	var n int64
	err = s.retry(ctx, s.retryFor, func() error {
		var err error
		n, err = call.run(ctx, s.c, renewScript).Int64()
		return err
	})
	switch {
	case err != nil:
		return mapErr(err)
	case n == 0:
		return store.ErrLeaseLost
	}
	return nil
}

// CommitTurn implements store.Turns with one script call, followed in the
// same round trip by WAIT when replica acknowledgements are configured. A
// repeated commit of one owner is a no-op, so it is retried across a
// failover too, for at least commitRetryFor within ctx.
func (s *Store) CommitTurn(ctx context.Context, k store.TurnKeys, c store.Commit) error {
	if err := store.CheckCommit(k, c); err != nil {
		return err
	}
	ttl, err := ttlArg(ctx, c.TTL)
	if err != nil {
		return err
	}
	keep, _ := ttlArg(ctx, c.Keep)
	// The op is boxed without an allocation (Go shares the boxes of values
	// below 256).
	call := s.newTurnCall(commitScript, k, true).arg(int64(c.Op))
	call.expect = c.Expect
	call.arg(&call.expect).arg(c.Value).num(ttl)
	if c.Outcome != nil {
		call.arg("1")
	} else {
		call.arg("0")
	}
	call.arg(c.Outcome).num(keep).arg(committedKeep)
	var n int64
	err = s.retry(ctx, s.commitRetryFor(), func() error {
		c, err := s.runAcked(ctx, commitScript, call)
		if err != nil {
			return err
		}
		n, err = c.Int64()
		return err
	})
	if err != nil {
		return mapErr(err)
	}
	switch n {
	case 0, 1:
		return nil
	case 2:
		return store.ErrLeaseLost
	case 3:
		return store.ErrConflict
	}
	return errUnavailable(errMalformed)
}
