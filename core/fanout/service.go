package fanout

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/resetbot/resetbot/core/audit"
	"github.com/resetbot/resetbot/core/crypt"
	"github.com/resetbot/resetbot/core/directory"
	"github.com/resetbot/resetbot/core/secret"
	"github.com/resetbot/resetbot/core/store"
)

// Audit event names.
const (
	NamePush    = "fanout.push"    // one attempt on one target
	NameRefused = "fanout.refused" // a password refused by a target's constraints
	NameFailed  = "fanout.failed"  // a target given up on; the help desk has the case
)

// Retry timing.
const (
	firstRetry     = 15 * time.Second
	maxBackoff     = 2 * time.Minute
	DefaultTimeout = 10 * time.Second
	// DefaultSweep is how often the worker looks for due items.
	DefaultSweep = 5 * time.Second
	// DefaultInlineBudget is the default Options.InlineBudget.
	DefaultInlineBudget = 8 * time.Second
	// sweepBatch bounds the items one sweep handles.
	sweepBatch = 32
)

// Failure is a target given up on: reported to the help desk. It holds no secret.
type Failure struct {
	Ref    string
	Locale string
	User   directory.User
	Target string
	Label  string
	// Reason is "permanent", "expired" or "outbox_full"/"outbox_error".
	Reason string
}

// Options configure a Fanout.
type Options struct {
	// Targets are the ordered targets per primary directory name.
	Targets map[string][]Entry
	Store   store.Store
	Keyring *crypt.Keyring
	// Window is how long a failed push is retried (DefaultWindow, at most MaxWindow).
	Window   time.Duration
	MaxItems int
	// InlineBudget bounds the time a reset waits for all its targets
	// together (DefaultInlineBudget): a phone call or a chat turn must not
	// hang on a slow system. Targets left when it is spent go straight to
	// the outbox.
	InlineBudget time.Duration
	Audit        audit.Sink
	Log          *slog.Logger
	Now          func() time.Time
	// OnFailed hands a given-up target to the help desk; may be nil.
	OnFailed func(ctx context.Context, f Failure)
}

// Fanout pushes new passwords to the targets of their primary directory.
type Fanout struct {
	targets  map[string][]Entry
	byName   map[string]Entry
	out      *outbox
	audit    audit.Sink
	log      *slog.Logger
	onFailed func(context.Context, Failure)
	owner    string
	budget   time.Duration
}

// New builds a Fanout. Target names must be unique across directories.
func New(o Options) (*Fanout, error) {
	if o.Store == nil || o.Keyring == nil {
		return nil, errors.New("fanout: a store and a keyring are required")
	}
	if o.Window == 0 {
		o.Window = DefaultWindow
	}
	if o.Window < 0 || o.Window > MaxWindow {
		return nil, fmt.Errorf("fanout: window %s is outside (0, %s]", o.Window, MaxWindow)
	}
	if o.InlineBudget <= 0 {
		o.InlineBudget = DefaultInlineBudget
	}
	if o.MaxItems <= 0 {
		o.MaxItems = DefaultMaxItems
	}
	if o.Audit == nil {
		o.Audit = audit.Discard
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	f := &Fanout{targets: o.Targets, byName: map[string]Entry{}, audit: o.Audit, log: o.Log,
		onFailed: o.OnFailed, owner: newID(), budget: o.InlineBudget,
		out: &outbox{st: o.Store, ring: o.Keyring, window: o.Window, maxItems: o.MaxItems, now: o.Now}}
	for dir, es := range o.Targets {
		for i, e := range es {
			if e.Timeout <= 0 {
				es[i].Timeout = DefaultTimeout
			}
			n := e.Target.Name()
			if _, dup := f.byName[n]; dup {
				return nil, fmt.Errorf("fanout: target %q configured twice (directory %s)", n, dir)
			}
			f.byName[n] = es[i]
		}
	}
	return f, nil
}

// Has reports whether u's directory has targets.
func (f *Fanout) Has(u directory.User) bool { return f != nil && len(f.targets[u.Directory]) > 0 }

// Check tells, before the primary changes, whether any target of u's
// directory would refuse pw: the first refusal in target order, or nil.
func (f *Fanout) Check(ctx context.Context, u directory.User, pw secret.String) (*Refusal, error) {
	if f == nil {
		return nil, nil
	}
	for _, e := range f.targets[u.Directory] {
		t := e.Target
		if r, n := t.Constraints().Check(pw); r != "" {
			return &Refusal{Target: t.Name(), Label: t.Label(), Reason: r, N: n}, nil
		}
		if pc, ok := t.(Prechecker); ok {
			cctx, cancel := context.WithTimeout(ctx, e.Timeout)
			ref, err := pc.Precheck(cctx, u, pw)
			cancel()
			if err != nil {
				return nil, fmt.Errorf("fanout precheck %s: %w", t.Name(), err)
			}
			if ref != nil {
				ref.Target, ref.Label = t.Name(), t.Label()
				return ref, nil
			}
		}
	}
	return nil, nil
}

// Push sends pw to every target of u's directory, in order, after the
// primary changed. A target that fails is queued in the sealed outbox
// (pending) or, when retrying cannot help, reported failed. Push never
// returns an error: the primary's change stands whatever happens here.
func (f *Fanout) Push(ctx context.Context, o Origin, u directory.User, pw secret.String) Report {
	if f == nil {
		return Report{}
	}
	rep := Report{Window: f.out.window}
	ref := o.Ref
	ictx, cancel := context.WithTimeout(ctx, f.budget)
	defer cancel()
	for _, e := range f.targets[u.Directory] {
		t := e.Target
		var lat time.Duration
		err := errBudget
		if ictx.Err() == nil {
			lat, err = f.attempt(ictx, e, Request{Ref: ref, User: u, Password: pw})
			f.record(ctx, ref, u, t.Name(), 1, lat, err)
		}
		res := Result{Name: t.Name(), Label: t.Label(), Latency: lat, Status: StatusDone}
		switch {
		case err == nil:
		case errors.Is(err, ErrPermanent):
			res.Status = StatusFailed
			f.fail(ctx, Failure{Ref: ref, Locale: o.Locale, User: u, Target: t.Name(), Label: t.Label(), Reason: "permanent"})
		default:
			res.Status = StatusPending
			if qerr := f.out.enqueue(ctx, o, t.Name(), u, pw.Reveal()); qerr != nil {
				f.log.Error("fan-out not queued for retry", "ref", ref, "target", t.Name(), "err", qerr)
				res.Status = StatusFailed
				reason := "outbox_error"
				if errors.Is(qerr, ErrOutboxFull) {
					reason = "outbox_full"
				}
				f.fail(ctx, Failure{Ref: ref, Locale: o.Locale, User: u, Target: t.Name(), Label: t.Label(), Reason: reason})
			}
		}
		rep.Results = append(rep.Results, res)
	}
	return rep
}

// errBudget stands for a push not tried inline because the budget was spent.
var errBudget = errors.New("fanout: inline budget spent")

// attempt runs one bounded push and measures it.
func (f *Fanout) attempt(ctx context.Context, e Entry, r Request) (time.Duration, error) {
	cctx, cancel := context.WithTimeout(ctx, e.Timeout)
	defer cancel()
	start := time.Now()
	err := e.Target.Push(cctx, r)
	return time.Since(start), err
}

// record audits one attempt (never the password; the error is logged, not
// audited, since a target's error text is not under our control).
func (f *Fanout) record(ctx context.Context, ref string, u directory.User, target string, try int, lat time.Duration, err error) {
	ev := audit.Event{Name: NamePush, Ref: ref, Actor: u.ID, Outcome: audit.OutcomeSuccess, Reason: target,
		Fields: map[string]string{"target": target, "try": strconv.Itoa(try), "latency_ms": strconv.FormatInt(lat.Milliseconds(), 10)}}
	if err != nil {
		ev.Outcome = audit.OutcomeError
		f.log.Warn("fan-out push failed", "ref", ref, "target", target, "try", try, "err", err)
	}
	if aerr := f.audit.Write(ctx, ev); aerr != nil {
		f.log.Error("audit not written", "ref", ref, "err", aerr)
	}
}

func (f *Fanout) fail(ctx context.Context, fl Failure) {
	_ = f.audit.Write(ctx, audit.Event{Name: NameFailed, Ref: fl.Ref, Actor: fl.User.ID, Outcome: audit.OutcomeFailure,
		Reason: fl.Reason, Fields: map[string]string{"target": fl.Target}})
	if f.onFailed != nil {
		f.onFailed(ctx, fl)
	}
}
