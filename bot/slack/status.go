package slack

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/slack-go/slack"

	"github.com/resetbot/resetbot/core/handoff"
	"github.com/resetbot/resetbot/core/store"
)

// statusQueue bounds the status changes waiting to be posted.
const statusQueue = 256

// statusKeep is how long the location of a status message is remembered
// (a handoff lives 24 h, then its record is kept 24 h more).
const statusKeep = 48 * time.Hour

// statusBoard shows agents the live status of the handoffs they started
// with the agent command: one parent message per handoff (in the agent
// channel when configured, else in the agent's DM) kept current with
// chat.update, and a thread reply per status change. It shows statuses,
// factor names, reasons and references only: a Handoff holds no secret.
//
// Store hooks must not block, so Changed only queues; one goroutine posts,
// in order. Where the parent message is lives in the state store, so a
// change reported on another replica updates the same message.
type statusBoard struct {
	b    *Bot
	q    chan handoff.Handoff
	stop chan struct{}
	done chan struct{}
	once sync.Once
}

func newStatusBoard(b *Bot) *statusBoard {
	s := &statusBoard{b: b, q: make(chan handoff.Handoff, statusQueue), stop: make(chan struct{}), done: make(chan struct{})}
	go s.loop()
	return s
}

// Changed implements handoff.ChangeHook for handoffs made by Slack agents.
func (s *statusBoard) Changed(_ context.Context, h handoff.Handoff) {
	if _, _, ok := parseRequester(h.Requester); !ok {
		return
	}
	select {
	case s.q <- h:
	default:
		s.b.log.Warn("slack handoff status dropped: queue full", "handoff", h.ID, "status", string(h.Status))
	}
}

// close posts what is queued, then stops.
func (s *statusBoard) close() {
	s.once.Do(func() { close(s.stop) })
	<-s.done
}

func (s *statusBoard) loop() {
	defer close(s.done)
	for {
		select {
		case h := <-s.q:
			s.show(h)
		case <-s.stop:
			for {
				select {
				case h := <-s.q:
					s.show(h)
				default:
					return
				}
			}
		}
	}
}

// statusMsg is where a handoff's status message is, and what it last said.
type statusMsg struct {
	Channel string `json:"c"`
	TS      string `json:"ts"`
	Last    string `json:"last"`
}

func statusKey(id string) string { return "slack:hostatus:" + id }

// show posts one change: the parent message on first sight, then a thread
// reply, unless the change repeats the last one shown.
func (s *statusBoard) show(h handoff.Handoff) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	b := s.b
	log := b.log.With("handoff", h.ID, "status", string(h.Status))
	_, agent, _ := parseRequester(h.Requester)
	loc := b.agentLocale(ctx, agent)
	last := string(h.Status) + "/" + h.Factor + "/" + h.Reason
	m, ver, err := s.load(ctx, h.ID)
	if err != nil {
		log.Warn("slack handoff status not shown", "err", err)
		return
	}
	if m.TS != "" && m.Last == last {
		return // the flow repeated a status (started by the store, then by the flow)
	}
	header := b.o.Messages.Text(loc, "slack.agent.header", false, statusArgs(h))
	if m.TS == "" {
		ch := b.o.Config.AgentChannel
		if ch == "" {
			if ch, err = b.dm(ctx, agent); err != nil {
				log.Warn("slack agent DM unavailable", "err", err)
				return
			}
		}
		c, ts, err := b.api.PostMessageContext(ctx, ch, slack.MsgOptionBlocks(section(header)), slack.MsgOptionText(header, false))
		if err != nil {
			log.Warn("slack handoff status not posted", "err", err)
			return
		}
		m = statusMsg{Channel: c, TS: ts}
	} else if _, _, _, err := b.api.UpdateMessageContext(ctx, m.Channel, m.TS, slack.MsgOptionBlocks(section(header)),
		slack.MsgOptionText(header, false)); err != nil {
		log.Warn("slack handoff status not updated", "err", err)
	}
	line := b.o.Messages.Text(loc, "slack.agent.status."+string(h.Status), false, statusArgs(h))
	if _, _, err := b.api.PostMessageContext(ctx, m.Channel, slack.MsgOptionTS(m.TS),
		slack.MsgOptionBlocks(section(line)), slack.MsgOptionText(line, false)); err != nil {
		log.Warn("slack handoff status reply failed", "err", err)
	}
	m.Last = last
	s.save(ctx, log, h.ID, ver, m)
}

func (s *statusBoard) load(ctx context.Context, id string) (statusMsg, uint64, error) {
	var m statusMsg
	r, err := s.b.o.Store.Get(ctx, statusKey(id))
	if errors.Is(err, store.ErrNotFound) {
		return m, 0, nil
	}
	if err != nil {
		return m, 0, err
	}
	if err := json.Unmarshal(r.Value, &m); err != nil {
		return statusMsg{}, r.Version, nil // unreadable: start a new message
	}
	return m, r.Version, nil
}

func (s *statusBoard) save(ctx context.Context, log *slog.Logger, id string, ver uint64, m statusMsg) {
	raw, _ := json.Marshal(m)
	if _, err := s.b.o.Store.CompareAndSwap(ctx, statusKey(id), ver, raw, statusKeep); err != nil {
		log.Warn("slack handoff status location not saved", "err", err)
	}
}

// statusArgs are the catalogue arguments of status messages: identifiers
// only, never a secret.
func statusArgs(h handoff.Handoff) map[string]string {
	or := func(v string) string {
		if v == "" {
			return "-"
		}
		return v
	}
	return map[string]string{"id": h.ID, "action": string(h.Action), "user": h.User, "status": string(h.Status),
		"factor": or(h.Factor), "reason": or(h.Reason), "ref": or(h.Ref)}
}

// agentLocale is the agent's Slack locale ("" when unknown: the default).
func (b *Bot) agentLocale(ctx context.Context, agent string) string {
	p, err := b.profile(ctx, agent)
	if err != nil {
		return ""
	}
	return p.Locale
}
