package app

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"github.com/resetbot/resetbot/core/audit"
	"github.com/resetbot/resetbot/core/directory"
	"github.com/resetbot/resetbot/core/handoff"
	"github.com/resetbot/resetbot/core/regulation"
	"github.com/resetbot/resetbot/flows"
)

// NameLifted is the audit event of a help-desk lift of the bot's pauses.
const NameLifted = "regulation.lifted"

// lifter is the help-desk "lift the pause" action shared by the agent
// commands and the ITSM API: it finds the account and forgets every ban and
// count the regulator keeps for it, then audits who did it.
type lifter struct {
	dir   directory.Directory
	reg   *regulation.Regulator
	audit audit.Sink
	log   *slog.Logger
}

var _ handoff.Lifter = (*lifter)(nil)

// Lift implements handoff.Lifter.
func (l *lifter) Lift(ctx context.Context, user, actor, channel string, inScope func(dn string) bool) (bool, error) {
	u, found, err := l.find(ctx, strings.TrimSpace(user))
	if err != nil {
		return false, err
	}
	if found && inScope != nil && !inScope(u.ID) {
		// Outside the key's OUs: answered and audited as no account, so a
		// key cannot learn what lies beyond its scope.
		found = false
	}
	ev := audit.Event{Name: NameLifted, Actor: actor, Channel: channel, Outcome: audit.OutcomeSuccess}
	if found {
		if err := l.reg.Lift(ctx, flows.LiftKeys(l.reg.Typed, u)...); err != nil {
			return false, fmt.Errorf("lift: %w", err)
		}
		ev.Fields = map[string]string{"user": u.Directory + ":" + u.ID}
	} else {
		ev.Outcome, ev.Reason = audit.OutcomeFailure, "not_found"
	}
	if err := l.audit.Write(ctx, ev); err != nil {
		l.log.Error("lift not audited", "err", err)
	}
	return found, nil
}

// find looks the account up by login, then by e-mail address; only a single
// match counts.
func (l *lifter) find(ctx context.Context, user string) (directory.User, bool, error) {
	if user == "" || len(user) > 256 {
		return directory.User{}, false, nil
	}
	for _, k := range []directory.Key{directory.ByLogin, directory.ByEmail} {
		users, err := l.dir.Find(ctx, k, user)
		if err != nil {
			return directory.User{}, false, fmt.Errorf("lift: look up user: %w", err)
		}
		if len(users) == 1 {
			return users[0], true, nil
		}
	}
	return directory.User{}, false, nil
}
