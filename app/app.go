// Package app builds a running resetbot from a configuration: the state
// store, the directories, the verifiers, the password policy, the regulator,
// the notifiers, the flows and the engine. `resetbot serve` and
// `resetbot demo` both start from Build, so the demo runs the same code as
// production, only with in-memory parts.
//
// Backends are chosen from explicit registries keyed by the configuration's
// `type:` (see registry.go): adding a backend is a package plus one line.
package app

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/trace"

	"github.com/resetbot/resetbot/core/alarm"
	"github.com/resetbot/resetbot/core/audit"
	"github.com/resetbot/resetbot/core/config"
	"github.com/resetbot/resetbot/core/crypt"
	"github.com/resetbot/resetbot/core/directory"
	"github.com/resetbot/resetbot/core/engine"
	"github.com/resetbot/resetbot/core/enrollpage"
	"github.com/resetbot/resetbot/core/identity"
	"github.com/resetbot/resetbot/core/identity/code"
	"github.com/resetbot/resetbot/core/identity/factor"
	"github.com/resetbot/resetbot/core/identity/questions"
	"github.com/resetbot/resetbot/core/messages"
	"github.com/resetbot/resetbot/core/notify"
	"github.com/resetbot/resetbot/core/notify/outbox"
	"github.com/resetbot/resetbot/core/policy"
	"github.com/resetbot/resetbot/core/regulation"
	"github.com/resetbot/resetbot/core/secret"
	"github.com/resetbot/resetbot/core/store"
	"github.com/resetbot/resetbot/core/store/redis"
	"github.com/resetbot/resetbot/core/token"
	"github.com/resetbot/resetbot/flows"
)

// DefaultFloor is how long identification and verification turns last at
// least, so that timing does not tell known from unknown users.
const DefaultFloor = 300 * time.Millisecond

// Options are the parts of a build that do not come from the configuration.
type Options struct {
	// Log receives operational logs; nil discards them.
	Log *slog.Logger
	// Catalog replaces the embedded message catalogs (a plug-in's tests
	// add its entries); nil loads the embedded ones.
	Catalog *messages.Catalog
	// Audit receives audit events in addition to the configured sink,
	// synchronously (the configured sink is queued); it must not depend on
	// the context being live.
	Audit audit.Sink
	// Outbox receives what SMS, calls and emails would carry when the
	// configuration selects the outbox (demo mode only); nil only records.
	Outbox io.Writer
	// Clock and Rand default to time.Now and crypto/rand.
	Clock func() time.Time
	Rand  io.Reader
	// Floor overrides DefaultFloor; negative disables it (tests).
	Floor time.Duration
	// Metrics, if set, receives the engine's turn metrics.
	Metrics prometheus.Registerer
	// HTTPClient, if set, sends the outbound webhooks (handoff completions,
	// tickets); tests pass one that trusts their TLS server.
	HTTPClient *http.Client
	// TracerProvider, if set, receives the app's spans instead of the
	// configured OTLP exporter (tests).
	TracerProvider trace.TracerProvider

	tracer trace.Tracer // set by Build (tracing.go)
}

// App is a built resetbot.
type App struct {
	Config    *config.Config
	Engine    *engine.Engine
	Messages  *messages.Catalog
	Store     store.Store
	Directory directory.Directory
	// Outbox is set when notifications go to the demo outbox.
	Outbox *outbox.Outbox
	// Handoffs is the help-desk side: handoffs, their API, escalations.
	Handoffs *Handoffs
	// Regulator throttles attempts and sends; the help desk lifts its bans.
	Regulator *regulation.Regulator
	// Audit is the audit sink, for channel adapters' own events
	// (authn.rejected for a webhook that fails authentication).
	Audit audit.Sink
	// Methods are the verification factors (identity.Registry), e.g. for an
	// enrollment surface outside the chat.
	Methods *identity.Registry
	// Tokens signs the values chat clients send back (buttons, modal
	// metadata, card data) with a key derived from keys.hmac.
	Tokens *token.Signer
	// EnrollPages serves one-time authenticator enrollment pages (mount at
	// enrollpage.Path); nil when no chat channel delivers enrollments so.
	EnrollPages *enrollpage.Pages
	// CallerKey is the HMAC key the phone channel keys a caller number's
	// remembered language with (derived from keys.hmac for that one use).
	CallerKey []byte
	// Posters post into chat channels (alarms, the monthly summary); chat
	// channels register in it when opened (AddChannel).
	Posters *ChatPosters
	Log     *slog.Logger

	// Outreach runs the lockout watchers; nil unless outreach.lockout.enabled.
	Outreach *Outreach

	// outreachKey names outreach records in the store; smsSender and
	// alarmNotify are what outreach reuses of the notifiers and alarms.
	outreachKey []byte
	smsSender   notify.Sender
	emailSender notify.Sender
	alarmNotify alarm.Notifier
	// notifyRoutes are the opened notifiers' own webhooks (NotifierRoutes).
	notifyRoutes map[string]http.Handler

	// auditMetrics counts audit events when metrics are on; opened channels
	// add their label (AddChannel).
	auditMetrics *auditMetrics

	checks     []namedCheck
	closers    []func() error
	auditQueue *audit.Queue
	reporting  *reporting
	// tracing says the app installed the global tracer provider
	// (tracing.otlp_endpoint): the HTTP server's request spans use it.
	tracing bool
}

type namedCheck struct {
	name string
	fn   func(context.Context) error
}

// Build wires a resetbot from cfg. On error everything opened so far is closed.
func Build(ctx context.Context, cfg *config.Config, opt Options) (a *App, err error) {
	if opt.Log == nil {
		opt.Log = slog.New(slog.DiscardHandler)
	}
	if opt.Clock == nil {
		opt.Clock = time.Now
	}
	if opt.Rand == nil {
		opt.Rand = rand.Reader
	}
	switch {
	case opt.Floor == 0:
		opt.Floor = DefaultFloor
	case opt.Floor < 0:
		opt.Floor = 0
	}
	built := &App{Config: cfg, Log: opt.Log, Posters: &ChatPosters{}}
	defer func() {
		// Every error return sets a to nil, so close what was opened through
		// built, not a.
		if err != nil {
			_ = built.Close()
		}
	}()
	a = built
	if a.Messages = opt.Catalog; a.Messages == nil {
		if a.Messages, err = messages.Load(); err != nil {
			return nil, fmt.Errorf("messages: %w", err)
		}
	}
	if cfg.Language != "" {
		if err = a.Messages.SetFallback(cfg.Language); err != nil {
			return nil, err
		}
	}
	if opt.tracer, err = a.tracer(ctx, cfg, opt); err != nil {
		return nil, err
	}
	if err = a.openBackends(ctx, cfg, opt); err != nil {
		return nil, err
	}
	sink, err := a.auditSink(cfg, opt)
	if err != nil {
		return nil, err
	}
	a.Audit = sink
	deps, err := a.flowDeps(ctx, cfg, opt, sink)
	if err != nil {
		return nil, err
	}
	if err = a.wireFanout(ctx, cfg, opt, sink, &deps); err != nil {
		return nil, err
	}
	fl, err := flows.New(deps)
	if err != nil {
		return nil, err
	}
	eo := engine.Options{Store: traceTurns(a.Store, opt.tracer), Tracer: opt.tracer, Flows: fl, Audit: sink, Log: opt.Log,
		Words: engine.Words(a.Messages.Words()), Supports: a.Messages.Supported,
		Clock: opt.Clock, Rand: opt.Rand, IdleTimeout: cfg.Sessions.IdleTimeout, AbsoluteTimeout: cfg.Sessions.AbsoluteTimeout,
		Ratings: cfg.Report.Ratings}
	if opt.Metrics != nil {
		m, err := newTurnMetrics(opt.Metrics)
		if err != nil {
			return nil, err
		}
		eo.OnTurn = m.observe
	}
	a.Engine, err = engine.New(eo)
	if err != nil {
		return nil, err
	}
	a.startReporting(cfg, opt)
	if err = a.buildOutreach(cfg, opt); err != nil {
		return nil, err
	}
	return a, nil
}

// openBackends opens the store and the directories.
func (a *App) openBackends(ctx context.Context, cfg *config.Config, opt Options) error {
	st, err := openStore(ctx, cfg, opt.Clock)
	if err != nil {
		return err
	}
	a.Store = st
	a.track("store", st)
	if rs, ok := st.(*redis.Store); ok && opt.Metrics != nil {
		if err := registerRedisMetrics(opt.Metrics, rs); err != nil {
			return err
		}
	}
	dm, err := newDirMetrics(opt.Metrics, opt.tracer)
	if err != nil {
		return err
	}
	dir, err := openDirectories(ctx, cfg, dm)
	if err != nil {
		return err
	}
	a.Directory = dir
	a.track("directory", dir)
	return nil
}

// track registers a part's startup check and close.
func (a *App) track(name string, v any) {
	if c, ok := v.(interface{ Check(context.Context) error }); ok {
		a.checks = append(a.checks, namedCheck{name, c.Check})
	}
	if c, ok := v.(interface{ Close() error }); ok {
		a.closers = append(a.closers, c.Close)
	}
}

// flowDeps builds the verifiers, policy, regulator and notifiers.
func (a *App) flowDeps(ctx context.Context, cfg *config.Config, opt Options, sink audit.Sink) (flows.Deps, error) {
	kr, hmacKey, err := keys(cfg, opt)
	if err != nil {
		return flows.Deps{}, err
	}
	if a.Tokens, err = token.New(derive(hmacKey, "resetbot button tokens"), opt.Clock); err != nil {
		return flows.Deps{}, err
	}
	a.outreachKey = derive(hmacKey, "resetbot outreach keys")
	if err := a.buildEnrollPages(cfg, opt, hmacKey); err != nil {
		return flows.Deps{}, err
	}
	codeKey := derive(hmacKey, "resetbot one-time codes")
	a.CallerKey = derive(hmacKey, "resetbot caller languages")
	fc := cfg.Factors
	cv := code.New(a.Store, codeKey, code.Options{Digits: fc.Codes.Digits, TTL: fc.Codes.TTL,
		MaxAttempts: fc.Codes.MaxAttempts, ResendCooldown: fc.Codes.ResendCooldown, Clock: opt.Clock, Rand: opt.Rand})
	if err := cv.Validate(); err != nil {
		return flows.Deps{}, err
	}
	strength := cfg.Password.MinStrength
	if strength == 0 { // configured off (check-config warns)
		strength = policy.NoStrengthCheck
	}
	pc, err := policy.New(policy.Options{MinLength: cfg.Password.MinLength, MaxLength: cfg.Password.MaxLength,
		BannedWords: cfg.Password.BannedWords, BannedFile: cfg.Password.BannedFile,
		BreachedFile: cfg.Password.BreachedFile, CheckRepetition: true, MinStrength: strength})
	if err != nil {
		return flows.Deps{}, fmt.Errorf("password policy: %w", err)
	}
	rc := cfg.Regulation
	// Throttle and budget keys are HMACs under a key of their own, so a
	// store dump gives back no caller number, destination or typed login.
	reg, err := regulation.New(a.Store, derive(hmacKey, "resetbot regulation keys"), regulation.Limits{
		MaxFailures: rc.MaxFailures, AccountMaxFailures: rc.AccountMaxFailures, Window: rc.Window,
		BanTime: rc.BanTime, Bans: rc.Bans, MaxConsecutive: rc.MaxConsecutive},
		regulation.SendLimits{PerDestinationPerHour: rc.Send.PerDestinationPerHour,
			PerUserPerHour: rc.Send.PerUserPerHour, GlobalPerHour: rc.Send.GlobalPerHour}, opt.Clock)
	if err != nil {
		return flows.Deps{}, err
	}
	a.Regulator = reg
	senders, err := a.senders(ctx, cfg, opt)
	if err != nil {
		return flows.Deps{}, err
	}
	a.smsSender = senders[notify.ChannelSMS]
	a.emailSender = senders[notify.ChannelEmail]
	senders = traceSenders(senders, opt.tracer)
	ms, err := methods(context.Background(), cfg, factor.Deps{Store: a.Store, Keyring: kr, Codes: cv, Senders: senders,
		Key:  func(label string) []byte { return derive(hmacKey, "resetbot factor "+label) },
		HTTP: &http.Client{Timeout: 10 * time.Second}, Clock: opt.Clock, Rand: opt.Rand, Log: opt.Log})
	if err != nil {
		return flows.Deps{}, err
	}
	a.Methods = ms
	if a.Handoffs, err = a.buildHandoffs(cfg, opt, derive(hmacKey, "resetbot handoff codes"), sink, senders, reg); err != nil {
		return flows.Deps{}, err
	}
	qv, err := securityQuestions(a, cfg, kr, opt)
	if err != nil {
		return flows.Deps{}, err
	}
	a.reporting.enrolled = enrolledChecks(ms, qv)
	words := cfg.Password.PassphraseWords
	return flows.Deps{Directory: a.Directory, Methods: ms, Passwords: pc, Regulator: reg,
		Senders: senders, Renderer: a.Messages, Policy: factorPolicy(cfg), Rand: opt.Rand, Log: opt.Log, Floor: opt.Floor,
		CodeDigits: fc.Codes.Digits, Questions: qv, Active: a.Store, Counters: a.Store, Managers: managers(a.Directory),
		Handoffs: flowHandoffs{a.Handoffs.Store}, Escalator: escalator{a.Handoffs.esc},
		Generate: func(ctx context.Context, r io.Reader, u directory.User) (secret.String, error) {
			return pc.GenerateFor(ctx, r, words, u)
		}}, nil
}

// keys returns the keyring for enrollment data and the HMAC key for codes.
// Demo mode without configured keys generates both; enrollments then do not
// survive a restart, which the demo says.
func keys(cfg *config.Config, opt Options) (*crypt.Keyring, []byte, error) {
	k := cfg.Keys
	if k.Encryption.Empty() && cfg.Mode == config.ModeDemo {
		key, mac := make([]byte, crypt.KeySize), make([]byte, 32)
		if _, err := io.ReadFull(opt.Rand, key); err != nil {
			return nil, nil, err
		}
		if _, err := io.ReadFull(opt.Rand, mac); err != nil {
			return nil, nil, err
		}
		kr, err := crypt.NewKeyring("demo", map[string][]byte{"demo": key})
		return kr, mac, err
	}
	primary, m, err := k.ParseEncryption()
	if err != nil {
		return nil, nil, fmt.Errorf("keys.encryption: %w", err)
	}
	kr, err := crypt.NewKeyring(primary, m)
	if err != nil {
		return nil, nil, fmt.Errorf("keys.encryption: %w", err)
	}
	if len(k.HMAC.Reveal()) < config.MinHMACKeyBytes {
		return nil, nil, errors.New("keys.hmac: too short")
	}
	return kr, []byte(k.HMAC.Reveal()), nil
}

// derive returns a key for one purpose, so the configured HMAC key is never
// used for two things.
func derive(key []byte, purpose string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(purpose))
	return m.Sum(nil)
}

// Check runs every startup check (store, directories, SMTP) and returns all
// failures joined, each prefixed with the part's name.
func (a *App) Check(ctx context.Context) error {
	var errs []error
	for _, c := range a.checks {
		if err := c.fn(ctx); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", c.name, err))
		}
	}
	return errors.Join(errs...)
}

// Checkers returns the startup checks by name, for /readyz.
func (a *App) Checkers() map[string]func(context.Context) error {
	m := make(map[string]func(context.Context) error, len(a.checks))
	for _, c := range a.checks {
		m[c.name] = c.fn
	}
	return m
}

// FlushAudit writes every queued audit event, waiting at most until ctx is
// done (the rest of the shutdown budget). Later audit writes, from turns
// still finishing, are written synchronously. Call it before Close.
func (a *App) FlushAudit(ctx context.Context) error {
	if a.auditQueue == nil {
		return nil
	}
	return a.auditQueue.Close(ctx)
}

// Close releases everything Build opened, in reverse order.
func (a *App) Close() error {
	var errs []error
	for i := len(a.closers) - 1; i >= 0; i-- {
		if err := a.closers[i](); err != nil {
			errs = append(errs, err)
		}
	}
	a.closers = nil
	return errors.Join(errs...)
}

// securityQuestions builds the question verifier when questions are enabled;
// nil otherwise (a nil interface, so the flows never ask them).
func securityQuestions(a *App, cfg *config.Config, kr *crypt.Keyring, opt Options) (flows.Questions, error) {
	if !cfg.Factors.Has(config.FactorQuestions) {
		return nil, nil
	}
	qc := cfg.Factors.Questions
	cat := make([]questions.Question, 0, len(qc.Catalog))
	for _, q := range qc.Catalog {
		cat = append(cat, questions.Question{ID: q.ID, MessageID: q.MessageID, Numeric: q.Numeric})
	}
	qv := questions.New(a.Store, kr, questions.Options{Catalog: cat, Ask: qc.Ask, MinEnrolled: qc.MinEnrolled, Rand: opt.Rand})
	if err := qv.Validate(); err != nil {
		return nil, fmt.Errorf("factors.questions: %w", err)
	}
	for _, q := range cat {
		if !a.Messages.Has(q.MessageID) {
			return nil, fmt.Errorf("factors.questions: message %q is not in the catalog", q.MessageID)
		}
	}
	return qv, nil
}
