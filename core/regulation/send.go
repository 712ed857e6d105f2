package regulation

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// sendWindow is the fixed window of the send budgets: the clock hour.
const sendWindow = time.Hour

// AllowSend decides whether one code may be sent to dest for the directory
// user userKey, and if so counts it. The budgets are checked from the most
// specific to the global one (destination, user, global), each with an
// atomic store Incr in a fixed clock-hour window shared by all replicas. When
// a budget is spent, the counts already taken for this send (including the
// spent one) are given back, so a refused send uses no budget: bombing one
// number does not eat the user's or the global budget. Between the Incr and
// the give-back a concurrent send may see one count too many and be refused,
// which errs on the safe side.
//
// An empty userKey skips the per-user budget (a send not tied to a known
// user). A refusal has RetryAfter until the end of the hour and one of the
// Reason*Budget reasons; ReasonGlobalBudget should raise an alert. err is a
// store failure: do not send.
func (r *Regulator) AllowSend(ctx context.Context, dest string, userKey string) (Decision, error) {
	if dest == "" {
		return Decision{}, errors.New("regulation: empty send destination")
	}
	now := r.now()
	hour := now.Truncate(sendWindow)
	retry := hour.Add(sendWindow).Sub(now)
	// Counters outlive their hour slightly so clock skew between replicas
	// cannot reopen a window early.
	ttl := retry + time.Minute
	suffix := ":" + strconv.FormatInt(hour.Unix()/int64(sendWindow/time.Second), 10)

	type budget struct {
		key    Key
		name   string
		limit  int
		reason string
	}
	budgets := []budget{
		{Destination(dest), "reg:send:{destination:" + r.n.name("send", string(ScopeDestination), dest) + "}", r.s.PerDestinationPerHour, ReasonDestinationBudget},
	}
	if userKey != "" {
		budgets = append(budgets, budget{User(userKey), "reg:send:{user:" + r.n.name("send", string(ScopeUser), userKey) + "}", r.s.PerUserPerHour, ReasonUserBudget})
	}
	budgets = append(budgets, budget{Key{}, "reg:send:global", r.s.GlobalPerHour, ReasonGlobalBudget})

	var taken []string
	for _, b := range budgets {
		name := b.name + suffix
		n, err := r.st.Incr(ctx, name, 1, ttl)
		if err != nil {
			return Decision{}, fmt.Errorf("regulation: count send: %w", err)
		}
		taken = append(taken, name)
		if n > int64(b.limit) {
			if err := r.giveBack(ctx, taken, ttl); err != nil {
				return Decision{}, err
			}
			return Decision{Allowed: false, Reason: b.reason, RetryAfter: retry, Key: b.key}, nil
		}
	}
	return Decision{Allowed: true}, nil
}
