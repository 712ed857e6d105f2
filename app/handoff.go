package app

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"

	"github.com/resetbot/resetbot/core/audit"
	"github.com/resetbot/resetbot/core/config"
	"github.com/resetbot/resetbot/core/directory"
	"github.com/resetbot/resetbot/core/handoff"
	"github.com/resetbot/resetbot/core/handoff/api"
	"github.com/resetbot/resetbot/core/handoff/apikey"
	"github.com/resetbot/resetbot/core/handoff/escalate"
	"github.com/resetbot/resetbot/core/handoff/sms"
	"github.com/resetbot/resetbot/core/handoff/webhook"
	"github.com/resetbot/resetbot/core/notify"
	"github.com/resetbot/resetbot/core/regulation"
	"github.com/resetbot/resetbot/core/secret"
	"github.com/resetbot/resetbot/flows"
)

// Handoffs holds the help-desk side of the app: handoffs started by agents
// or ITSM tools, their API, and the escalation sink.
type Handoffs struct {
	// Store keeps handoffs and phone handoff codes.
	Store *handoff.Store
	// API is the ITSM handoff API (mount at api.Prefix); nil when no API key
	// is configured.
	API http.Handler
	// Lifter lifts the bot's pauses on an account (agent commands, API).
	Lifter handoff.Lifter

	mu       sync.RWMutex
	watchers []handoff.ChangeHook
	starters map[string]handoff.Starter
	// names are the chat handoff channels in the order they registered.
	names []string
	sms   *sms.Starter
	dir   directory.Directory
	esc   *escalate.Sink
	// keys scopes API handoffs to their key's OUs.
	keys *apikey.Set
}

// SetStarter registers how to start a handoff on a chat channel: open a DM
// with the user and start the flow. The composition root calls it for every
// opened channel that can (core/channel.HandoffStarter); the registered
// names are the valid chat handoff channels.
func (h *Handoffs) SetStarter(channel string, s handoff.Starter) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.starters[channel]; !ok {
		h.names = append(h.names, channel)
	}
	h.starters[channel] = s
}

// Channels are the handoff channels enabled now: the chat channels that
// registered a starter, in registration order, then handoff.ChannelSMS when
// an SMS provider and the phone line's number are configured.
func (h *Handoffs) Channels() []string {
	h.mu.RLock()
	out := slices.Clone(h.names)
	h.mu.RUnlock()
	if h.sms.Sender != nil && h.sms.Number != "" {
		out = append(out, handoff.ChannelSMS)
	}
	return out
}

// Watch registers a hook told of every handoff status change, after the
// change is stored: chat adapters use it to update the agent's live status
// thread or card. Hooks must not block (the store calls them inline).
func (h *Handoffs) Watch(w handoff.ChangeHook) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.watchers = append(h.watchers, w)
}

// changed fans a status change out to the watchers.
func (h *Handoffs) changed(ctx context.Context, ho handoff.Handoff) {
	h.mu.RLock()
	ws := h.watchers
	h.mu.RUnlock()
	for _, w := range ws {
		w.Changed(ctx, ho)
	}
}

// SetPoster registers a help-desk channel poster for escalation packets:
// packets escalated from then on are posted there too. The composition root
// calls it for every opened channel with a help-desk target
// (core/channel.HelpDeskPoster).
func (h *Handoffs) SetPoster(channel string, p escalate.Poster) {
	h.esc.AddPoster(channel, p)
}

// Start implements handoff.Starter: a chat handoff goes to the channel's
// starter; an SMS handoff texts the user a one-time code and the number of
// the phone line.
func (h *Handoffs) Start(ctx context.Context, ho handoff.Handoff) error {
	if err := h.inScope(ctx, ho); err != nil {
		return err
	}
	if ho.Channel == handoff.ChannelSMS {
		return h.sms.Start(ctx, ho)
	}
	h.mu.RLock()
	s := h.starters[ho.Channel]
	h.mu.RUnlock()
	if s == nil {
		return fmt.Errorf("handoff: channel %q is not enabled", ho.Channel)
	}
	// Chat platforms find people by email: a handoff that names a login is
	// given the account's email of record (the stored handoff keeps the login).
	if !strings.Contains(ho.User, "@") {
		users, err := h.dir.Find(ctx, directory.ByLogin, ho.User)
		if err != nil {
			return fmt.Errorf("handoff: look up user: %w", err)
		}
		if len(users) == 1 && users[0].Email != "" {
			ho.User = users[0].Email
		}
	}
	return s.Start(ctx, ho)
}

// inScope refuses an API handoff for an account outside its key's OUs. The
// error is the handoff's result ("not possible"), indistinguishable from an
// unknown account; the log and the audit keep the cause.
func (h *Handoffs) inScope(ctx context.Context, ho handoff.Handoff) error {
	if h.keys == nil || !strings.HasPrefix(ho.Requester, apikey.RequesterPrefix) {
		return nil // agents' handoffs: agents are checked by their channel
	}
	k, ok := h.keys.Key(ho.Requester)
	if !ok {
		return errors.New("handoff: unknown API key")
	}
	if len(k.OUs) == 0 {
		return nil
	}
	key := directory.ByLogin
	if strings.Contains(ho.User, "@") {
		key = directory.ByEmail
	}
	users, err := h.dir.Find(ctx, key, ho.User)
	if err != nil {
		return fmt.Errorf("handoff: look up user: %w", err)
	}
	if len(users) != 1 || !k.InScope(users[0].ID) {
		return errOutOfScope
	}
	return nil
}

// errOutOfScope: the account is unknown, ambiguous or outside the key's OUs.
var errOutOfScope = errors.New("handoff: account not in the API key's scope")

// buildHandoffs wires the handoff store, API, completion webhooks and the
// escalation sink from cfg.Handoff.
func (a *App) buildHandoffs(cfg *config.Config, opt Options, hmacKey []byte, sink audit.Sink,
	senders map[notify.Channel]notify.Sender, reg *regulation.Regulator) (*Handoffs, error) {
	hc := cfg.Handoff
	sender := webhook.NewSender(webhook.Options{Client: opt.HTTPClient, Timeout: hc.WebhookTimeout, Log: opt.Log, Clock: opt.Clock})
	a.closers = append(a.closers, func() error { sender.Close(); return nil })
	keys, err := apikey.Load(APIKeySettings(hc.APIKeys))
	if err != nil {
		return nil, fmt.Errorf("handoff.api_keys: %w", err)
	}
	h := &Handoffs{starters: map[string]handoff.Starter{}, dir: a.Directory, keys: keys}
	h.Store = handoff.NewStore(a.Store, hmacKey, handoff.Options{TTL: hc.TTL, CodeTTL: hc.CodeTTL, Clock: opt.Clock,
		Rand: opt.Rand, Audit: sink, Log: opt.Log, Terminal: webhook.NewNotifier(sender, keys, opt.Log),
		Changed: handoff.ChangeFunc(h.changed)})
	h.sms = &sms.Starter{Codes: h.Store, Sender: senders[notify.ChannelSMS], Accounts: a.Directory,
		Messages: a.Messages, Budget: reg, Number: phoneLine(cfg)}
	if a.Regulator != nil {
		h.Lifter = &lifter{dir: a.Directory, reg: a.Regulator, audit: sink, log: opt.Log}
	}
	if len(hc.APIKeys) > 0 {
		h.API = api.New(api.Options{Handoffs: h.Store, Starter: h, Channels: h.Channels, Lifter: h.Lifter, Store: a.Store, Audit: sink, Log: opt.Log,
			Guard: &apikey.Guard{Keys: keys, Limiter: apikey.NewLimiter(a.Store, hc.RatePerMinute), Audit: sink, Log: opt.Log}})
	}
	var ticket webhook.Target
	if hc.TicketWebhookURL != "" {
		ticket = webhook.Target{Name: "ticket", URL: hc.TicketWebhookURL, Secret: hc.TicketWebhookSecret}
	}
	h.esc = escalate.New(escalate.Options{Ticket: ticket, Sender: sender, Audit: sink, Log: opt.Log})
	a.closers = append(a.closers, func() error { h.esc.Close(); return nil })
	return h, nil
}

// flowHandoffs adapts the handoff store to what the flows need.
type flowHandoffs struct{ st *handoff.Store }

func (f flowHandoffs) Lookup(ctx context.Context, id string) (flows.HandoffInfo, error) {
	h, err := f.st.Get(ctx, id)
	if errors.Is(err, handoff.ErrNotFound) || (err == nil && h.Status.Terminal()) {
		return flows.HandoffInfo{}, flows.ErrNoHandoff
	}
	if err != nil {
		return flows.HandoffInfo{}, err
	}
	return flows.HandoffInfo{ID: h.ID, Action: string(h.Action), User: h.User}, nil
}

func (f flowHandoffs) Redeem(ctx context.Context, code secret.String) (flows.HandoffInfo, bool, error) {
	h, ok, err := f.st.RedeemCode(ctx, code)
	if errors.Is(err, handoff.ErrThrottled) {
		return flows.HandoffInfo{}, false, nil // too many wrong codes lately: treat as no match
	}
	if err != nil || !ok {
		return flows.HandoffInfo{}, false, err
	}
	return flows.HandoffInfo{ID: h.ID, Action: string(h.Action), User: h.User}, true, nil
}

func (f flowHandoffs) Report(ctx context.Context, id, status, factor, reason, ref string) error {
	_, err := f.st.Update(ctx, id, handoff.Event{Status: handoff.Status(status), Factor: factor, Reason: reason, Ref: ref})
	if errors.Is(err, handoff.ErrFinal) {
		return nil
	}
	return err
}

// AwaitReadback implements flows.Readbacks: the store keeps only a keyed
// hash of the phrase the person was shown.
func (f flowHandoffs) AwaitReadback(ctx context.Context, id string, phrase secret.String) error {
	return f.st.AwaitReadback(ctx, id, phrase)
}

var _ flows.Readbacks = flowHandoffs{}

// escalator adapts the escalation sink to the flows.
type escalator struct{ s *escalate.Sink }

func (e escalator) Escalate(ctx context.Context, p flows.Escalation) error {
	pk := escalate.Packet{Ref: p.Ref, Reason: p.Reason, Channel: p.Channel, User: p.Login, Flow: p.Flow,
		State: p.State, Messages: p.Messages, Time: p.Time, OfRecord: p.OfRecord, Alert: p.Alert}
	for _, f := range p.Factors {
		pk.Factors = append(pk.Factors, escalate.FactorAttempt{Factor: f.Factor, Outcome: f.Outcome})
	}
	return e.s.Escalate(ctx, pk)
}

// phoneLine is the number people are told to call in an SMS handoff: the
// line of the account notify.sms.provider names (channels.twilio's
// from_number), else of the first channel block that has one, in key order.
func phoneLine(cfg *config.Config) string {
	type liner interface{ Line() string }
	if l, ok := cfg.Channels.Plugins[cfg.Notify.SMS.Provider].(liner); ok && l.Line() != "" {
		return l.Line()
	}
	for _, key := range slices.Sorted(maps.Keys(cfg.Channels.Plugins)) {
		if l, ok := cfg.Channels.Plugins[key].(liner); ok && l.Line() != "" {
			return l.Line()
		}
	}
	return ""
}
