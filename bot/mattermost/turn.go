package mattermost

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	"github.com/resetbot/resetbot/core/engine"
	"github.com/resetbot/resetbot/core/secret"
)

// job is one turn to run on the pool.
type job struct {
	user, channel string
	delivery      string
	input         engine.Input
	// post is the DM post that carried typed input; codeLike says it
	// looked like a code (then it is deleted whatever the turn does).
	post     string
	codeLike bool
	// trigger is the trigger_id of the click that started the turn,
	// received at triggerAt: it opens the next masked prompt's dialog at
	// once (Mattermost accepts a trigger for a few seconds).
	trigger   string
	triggerAt time.Time
	// clicked is the post whose button started the turn, and label the
	// chosen button's message ID: its buttons are replaced by the choice.
	clicked, label string
	// w, for a dialog submission, hands the reply back to the request.
	w *waiter
	// intro says the help desk started this conversation (a handoff): the
	// person is told so before the flow's first prompt.
	intro bool
	// once is the click's one-use claim: released when the turn did
	// nothing lasting (Reply.Retry, a conversation busy elsewhere), so that
	// the same button works when the person tries again.
	once string
}

// triggerWindow is how long after a click its trigger may still open a
// dialog (the server allows 3 s by default; the rest is margin).
const triggerWindow = 2500 * time.Millisecond

// postedData is the data of a "posted" WebSocket event; Post is a JSON
// document inside the JSON string.
type postedData struct {
	ChannelType string `json:"channel_type"`
	ChannelName string `json:"channel_name"`
	Post        string `json:"post"`
}

// onEvent handles one WebSocket event: a direct message to the bot is
// queued as a turn. It never blocks on the turn itself.
func (b *Bot) onEvent(_ context.Context, ev event) {
	defer b.events.Add(1)
	if ev.Event != "posted" {
		return
	}
	var d postedData
	if json.Unmarshal(ev.Data, &d) != nil || d.ChannelType != "D" {
		return
	}
	var p post
	if json.Unmarshal([]byte(d.Post), &p) != nil {
		return
	}
	bot := b.self()
	// Only what a person typed in the DM with us: never our own posts,
	// system posts (join, header changes), webhooks or other bots.
	if p.ID == "" || p.UserID == "" || p.ChannelID == "" || p.UserID == bot || p.Type != "" ||
		p.Props["from_bot"] == "true" || p.Props["from_webhook"] == "true" || !dmWith(d.ChannelName, bot, p.UserID) {
		return
	}
	j := job{user: p.UserID, channel: p.ChannelID, delivery: "p:" + p.ID, post: p.ID}
	j.input, j.codeLike = typed(p.Message)
	if err := b.enqueue(j); err != nil {
		b.log.Warn("mattermost turn not queued", "err", err)
		b.busy(j)
	}
}

// enqueue queues a job's turn on the bounded pool (dispatch.ErrFull when
// it is full).
func (b *Bot) enqueue(j job) error {
	if err := b.pool.Submit(func(ctx context.Context) { b.run(ctx, j) }); err != nil {
		return err
	}
	b.queued.Add(1)
	return nil
}

// dmWith reports whether a direct channel's name ("id1__id2") is the DM
// between the bot and user.
func dmWith(name, bot, user string) bool {
	return bot != "" && (name == bot+"__"+user || name == user+"__"+bot)
}

// typed is the engine input of a DM: typed text, kept secret. codeLike
// reports six to eight digits (spaces and dashes allowed): a code, which
// must not stay in the channel's history.
func typed(s string) (engine.Input, bool) {
	s = strings.TrimSpace(s)
	digits := strings.NewReplacer(" ", "", "-", "").Replace(s)
	codeLike := len(digits) >= 6 && len(digits) <= 8 && strings.Trim(digits, "0123456789") == ""
	return engine.Input{Kind: engine.InputText, Value: secret.New(s)}, codeLike
}

// busy tells a person whose turn could not be queued to try again; the
// notes are bounded, and dropped when too many are in flight.
func (b *Bot) busy(j job) {
	select {
	case b.notes <- struct{}{}:
	default:
		return
	}
	go func() {
		defer func() { <-b.notes }()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		b.say(ctx, j.channel, b.locale(j.user), msgBusy)
	}()
}

// say posts one catalogued message.
func (b *Bot) say(ctx context.Context, channel, loc, id string) {
	if _, err := b.api.createPost(ctx, post{ChannelID: channel, Message: escape(b.text(loc, id, nil)),
		Props: map[string]any{"disable_group_highlight": true}}); err != nil {
		b.log.Warn("mattermost post failed", "err", err)
	}
}

// run is one queued turn: the profile, the engine, then the reply.
func (b *Bot) run(ctx context.Context, j job) {
	if j.intro {
		b.say(ctx, j.channel, b.locale(j.user), msgHandoffIntro)
	}
	r, loc, ok := b.turn(ctx, j)
	if !ok {
		j.w.finish(nil, "")
		return
	}
	if r.Retry && !r.Duplicate && j.once != "" {
		b.release(ctx, j.once)
	}
	if j.post != "" && (j.codeLike || typedSecret(r)) {
		r = b.scrub(ctx, j, r)
	}
	show := func(ctx context.Context) { b.show(ctx, j, r, loc) }
	if !b.later(ctx, r, show) {
		show(ctx)
	}
}

// show shows a turn's reply: inside the dialog that collected a refused
// input, else the next masked prompt's dialog, the clicked post marked
// and the reply in the DM.
func (b *Bot) show(ctx context.Context, j job, r engine.Reply, loc string) {
	if j.w.take(r, j.input.State) {
		j.w.finish(&r, loc)
		return
	}
	if !r.Duplicate {
		b.openNext(ctx, j, r, loc)
		if !refusedStale(r) {
			b.consume(ctx, j)
		}
		b.deliver(ctx, j, r, loc)
	}
	j.w.finish(&r, loc)
}

// turn runs the engine for a job. ok is false when nothing more should be
// shown (bots, deleted users, refusals already posted).
func (b *Bot) turn(ctx context.Context, j job) (engine.Reply, string, bool) {
	p, err := b.profile(ctx, j.user)
	if err != nil {
		// Without the profile a guest cannot be told from an employee:
		// fail closed, with the generic message.
		b.log.Warn("mattermost profile lookup failed", "err", err)
		b.say(ctx, j.channel, "", msgFallback)
		return engine.Reply{}, "", false
	}
	if p.Bot || p.Deleted {
		return engine.Reply{}, "", false
	}
	if !b.allowed(p) {
		b.log.Info("mattermost person refused", "reason", "guest or outside the team allowlist")
		b.rejected(ctx, j.user, "not_allowed")
		b.say(ctx, j.channel, p.Locale, msgNotAllowed)
		return engine.Reply{}, "", false
	}
	hints, err := b.mapper.hints(ctx, p)
	if err != nil {
		b.log.Warn("mattermost identity mapping failed; continuing without it", "err", err)
	}
	r := b.handle(ctx, engine.Turn{Channel: Name, ChannelUser: j.user, DeliveryID: j.delivery,
		Locale: p.Locale, Hints: hints, Input: j.input})
	loc := p.Locale
	if r.Locale != "" {
		loc = r.Locale
	}
	return r, loc, true
}

// refusedStale reports a reply refusing a button of an earlier step: its
// post is left as it was (nothing was chosen).
func refusedStale(r engine.Reply) bool {
	for _, o := range r.Outputs {
		if o.MessageID == engine.MsgStale {
			return true
		}
	}
	return false
}

// typedSecret reports a reply refusing a password or an answer typed into
// the chat (the flows' use_form messages).
func typedSecret(r engine.Reply) bool {
	for _, o := range r.Outputs {
		if o.Error && (o.MessageID == "password.use_form" || o.MessageID == "questions.use_form") {
			return true
		}
	}
	return false
}

// scrub deletes the DM post that carried a code or a password and says so
// in the reply; when the delete fails, the reply is left as the flow wrote
// it (which asks the person to delete the message).
func (b *Bot) scrub(ctx context.Context, j job, r engine.Reply) engine.Reply {
	if err := b.api.deletePost(ctx, j.post); err != nil {
		b.log.Warn("mattermost typed secret not deleted", "err", err)
		return r
	}
	b.log.Info("mattermost typed secret deleted", "code_like", j.codeLike)
	outs := make([]engine.Output, 0, len(r.Outputs)+1)
	if j.codeLike && !typedSecret(r) {
		outs = append(outs, engine.Output{MessageID: msgCodeDeleted})
	}
	for _, o := range r.Outputs {
		if o.Error && (o.MessageID == "password.use_form" || o.MessageID == "questions.use_form") {
			o = engine.Output{MessageID: msgSecretDeleted, Error: true}
		}
		outs = append(outs, o)
	}
	r.Outputs = outs
	return r
}

// deliver posts a reply in the DM. An enrollment becomes a one-time page
// link; leaving the enrollment revokes the page.
func (b *Bot) deliver(ctx context.Context, j job, r engine.Reply, loc string) {
	if len(r.Outputs) == 0 {
		return
	}
	outs := append([]engine.Output(nil), r.Outputs...)
	for i, o := range outs {
		if o.Attachment != nil && o.Attachment.Kind == "qr" {
			outs[i] = b.pageLink(ctx, j.user, r.Ref, loc, o)
		}
	}
	p := b.render(loc, userKey(j.user, j.channel), r.Step, outs)
	p.ChannelID = j.channel
	if _, err := b.api.createPost(ctx, p); err != nil {
		b.log.Warn("mattermost reply not posted", "err", err, "ref", r.Ref)
	}
	if r.Flow == "enroll" && r.State != "enroll_totp" && b.o.Pages != nil {
		if err := b.o.Pages.Revoke(ctx, Name+":"+j.user); err != nil {
			b.log.Warn("mattermost enrollment page not revoked", "err", err)
		}
	}
}

// consume replaces the buttons of the clicked post by the chosen label, so
// old buttons are not clicked again (a stale click would be refused).
func (b *Bot) consume(ctx context.Context, j job) {
	if j.clicked == "" {
		return
	}
	label := "✓ " + escape(b.text(b.locale(j.user), j.label, nil))
	props := map[string]any{"disable_group_highlight": true, "attachments": []attachment{{Text: label}}}
	if err := b.api.patchPost(ctx, j.clicked, props); err != nil {
		b.log.Warn("mattermost clicked post not updated", "err", err)
	}
}

// openNext opens the dialog of the reply's masked prompt with the trigger
// of the click that started the turn, so the person types at once instead
// of clicking "Enter code" first. Too late, or no masked prompt: the DM's
// button opens it.
func (b *Bot) openNext(ctx context.Context, j job, r engine.Reply, loc string) {
	if j.trigger == "" || b.now().Sub(j.triggerAt) > triggerWindow || r.Ended || r.Retry || len(r.Outputs) == 0 {
		return
	}
	kind, _ := dialogKind(r.Last().Expect)
	if kind == "" {
		return
	}
	var intro []string
	for _, o := range r.Outputs {
		if o.Attachment != nil {
			return
		}
		intro = append(intro, b.text(loc, o.MessageID, o.Args))
	}
	b.open(ctx, j.trigger, loc, userKey(j.user, j.channel), r.Step, kind, intro)
}
