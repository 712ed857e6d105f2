package faulttest

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/resetbot/resetbot/core/notify/twilio/twiliotest"
	"github.com/resetbot/resetbot/internal/procrig"
	"github.com/resetbot/resetbot/internal/testserver"
)

// regulationExtra lifts the send budgets so that repeated test
// conversations for the same two users are not throttled.
const regulationExtra = "regulation: {send: {per_destination_per_hour: 100000, per_user_per_hour: 100000, global_per_hour: 100000}}\n"

// user is a directory account with a mobile number (testserver fixtures).
type user struct{ login, empNo, mobile string }

var users = []user{{"alice", "1001", "+15555550101"}, {"bob", "1002", "+15555550102"}}

// tally counts what a scenario did to its conversations.
type tally struct {
	convs, done, lost         atomic.Int64
	doubledSends, doubledActs atomic.Int64
	errorsShown, redeliveries atomic.Int64
	mu                        sync.Mutex
	notes                     []string
}

func (t *tally) note(format string, args ...any) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.notes) < 12 {
		t.notes = append(t.notes, fmt.Sprintf(format, args...))
	}
}

// report logs the counts and fails the test on any lost or doubled.
func (t *tally) report(tb testing.TB, scenario string) {
	tb.Helper()
	tb.Logf("%s: conversations %d, completed %d, lost %d, doubled sends %d, doubled actions %d, errors shown %d, redeliveries %d",
		scenario, t.convs.Load(), t.done.Load(), t.lost.Load(), t.doubledSends.Load(), t.doubledActs.Load(),
		t.errorsShown.Load(), t.redeliveries.Load())
	for _, n := range t.notes {
		tb.Log("  " + n)
	}
	if t.lost.Load() != 0 || t.doubledSends.Load() != 0 || t.doubledActs.Load() != 0 {
		tb.Errorf("%s: %d lost conversations, %d doubled sends, %d doubled actions (want 0, 0, 0)",
			scenario, t.lost.Load(), t.doubledSends.Load(), t.doubledActs.Load())
	}
	if t.convs.Load() == 0 {
		tb.Errorf("%s: no conversation ran", scenario)
	}
}

// env is a set of replicas over shared backends.
type env struct {
	t    testing.TB
	be   procrig.Backends
	opt  procrig.Options
	mu   sync.Mutex
	reps []*procrig.Serve
	tw   *twiliotest.Server
	cl   map[string]*procrig.Client
}

// newEnv starts n replicas over be (Slack and Twilio fakes are added).
func newEnv(t testing.TB, be procrig.Backends, opt procrig.Options, n int) *env {
	t.Helper()
	if be.Slapd == nil {
		be.Slapd = testserver.Slapd(t)
	}
	be.Slack, be.Twilio = procrig.NewFakeSlack(t), twiliotest.New(t)
	opt.Extra += regulationExtra
	e := &env{t: t, be: be, opt: opt, tw: be.Twilio, cl: map[string]*procrig.Client{}}
	for range n {
		e.reps = append(e.reps, procrig.StartServe(t, be, opt))
	}
	return e
}

// replace starts a new replica in place of replica i (after a crash).
func (e *env) replace(i int) {
	s := procrig.StartServe(e.t, e.be, e.opt)
	e.mu.Lock()
	e.reps[i] = s
	e.mu.Unlock()
}

func (e *env) rep(i int) *procrig.Serve {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.reps[i%len(e.reps)]
}

func (e *env) client(s *procrig.Serve) *procrig.Client {
	e.mu.Lock()
	defer e.mu.Unlock()
	c := e.cl[s.Public]
	if c == nil {
		c = procrig.NewClient("http://"+s.Public, 16)
		c.HTTP.Timeout = 15 * time.Second // Twilio's webhook timeout
		e.cl[s.Public] = c
	}
	return c
}

func alive(s *procrig.Serve) bool {
	select {
	case <-s.Exited():
		return false
	default:
		return true
	}
}

// route says where each delivery of a turn goes: copies concurrent copies,
// to replica first (and, with spread, alternately to the others).
type route struct {
	first  int
	copies int
	spread bool
}

// --- voice -------------------------------------------------------------------

var (
	sayRe  = regexp.MustCompile(`<Say[^>]*>([^<]*)</Say>`)
	codeRe = regexp.MustCompile(`verification code is (\d{6})`)
)

func said(doc string) string {
	var parts []string
	for _, m := range sayRe.FindAllStringSubmatch(doc, -1) {
		parts = append(parts, m[1])
	}
	return strings.Join(parts, " ")
}

// shownError reports whether a TwiML answer is an error or busy prompt.
func shownError(text string) bool {
	return strings.Contains(text, "went wrong") || strings.Contains(text, "very busy") ||
		strings.Contains(text, "still working") || strings.Contains(text, "did not understand")
}

// deliverVoice delivers one voice webhook the way Twilio does: to the
// replica the route picks; when that fails (transport error, 5xx, no answer
// in 15 s) once more, as the fallback URL, to another live replica. With
// copies > 1 every copy is sent at once and the first proper answer wins.
func (e *env) deliverVoice(tl *tally, r route, path string, p url.Values) string {
	type answer struct {
		doc string
		ok  bool
	}
	answers := make(chan answer, r.copies)
	for c := range r.copies {
		target := r.first
		if r.spread {
			target += c
		}
		go func() {
			s := e.rep(target)
			code, doc, err := e.client(s).PostTwilio(path, p)
			if err != nil || code >= 500 {
				tl.redeliveries.Add(1)
				for k := 1; k <= len(e.reps); k++ {
					if o := e.rep(target + k); o != s && alive(o) {
						code, doc, err = e.client(o).PostTwilio(path, p)
						break
					}
				}
			}
			if err != nil || code != http.StatusOK {
				tl.note("%s: HTTP %d, %v: %s", path, code, err, trim(doc))
			}
			answers <- answer{doc, err == nil && code == http.StatusOK}
		}()
	}
	best := ""
	for range r.copies {
		a := <-answers
		if !a.ok {
			continue
		}
		if best == "" || (shownError(said(best)) && !shownError(said(a.doc))) {
			best = a.doc
		}
	}
	if shownError(said(best)) {
		tl.errorsShown.Add(1)
	}
	return best
}

// voiceStep is one caller action and what a proper answer says.
type voiceStep struct{ digits, want string }

func voiceSteps(u user) []voiceStep {
	return []voiceStep{
		{"1", "Reset password, press 1"},
		{"1", "Employee number"},
		{u.empNo, "Text message, press 2"},
		{"2", "Code texted"},
		{"CODE", "Password changed"},
	}
}

// call plays one phone reset for u and counts it in tl. before runs ahead of
// step i (fault injection); it may be nil.
func (e *env) call(tl *tally, u user, id string, r func(step int) route, before func(step int)) {
	tl.convs.Add(1)
	sent0 := e.smsTo(u.mobile)
	path, sid := "/voice/language", "CA"+id
	ok := true
	for i, st := range voiceSteps(u) {
		if before != nil {
			before(i)
		}
		digits := st.digits
		if digits == "CODE" {
			digits = e.waitCode(u.mobile, sent0)
			if digits == "" {
				tl.note("%s %s: no code SMS arrived", id, u.login)
				ok = false
				break
			}
		}
		doc := e.deliverVoice(tl, r(i), path, procrig.CallParams(sid, digits))
		// A turn that cannot finish in time may answer with a hold prompt
		// and a <Redirect> that resumes it; Twilio follows it (no Digits).
		for hops := 0; hops < 40 && !strings.Contains(said(doc), st.want) && isRedirect(doc); hops++ {
			doc = e.deliverVoice(tl, r(i), procrig.TwiMLAction(doc), procrig.CallParams(sid, ""))
		}
		if text := said(doc); !strings.Contains(text, st.want) {
			tl.note("%s %s step %d (%s): heard %q", id, u.login, i, st.want, trim(text))
			ok = false
			break
		}
		path = procrig.TwiMLAction(doc)
	}
	if ok {
		tl.done.Add(1)
	} else {
		tl.lost.Add(1)
	}
	e.countSends(tl, u, sent0, id)
}

// isRedirect reports whether a TwiML answer is a hold or a busy pause that
// resumes the turn by a <Redirect> (the hold prompt sits in a one-second
// gather for barge-in, posting to the same resume URL) rather than a
// prompt waiting for keys.
func isRedirect(doc string) bool {
	return strings.Contains(doc, "<Redirect")
}

func trim(s string) string {
	if len(s) > 90 {
		return s[:90] + "…"
	}
	return s
}

// smsTo returns the SMS sent to mobile so far.
func (e *env) smsTo(mobile string) []string {
	var out []string
	for _, m := range e.tw.Messages() {
		if m.To == mobile {
			out = append(out, m.Body)
		}
	}
	return out
}

// waitCode waits for a code SMS to mobile after the first `after` messages.
func (e *env) waitCode(mobile string, after []string) string {
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		msgs := e.smsTo(mobile)
		for i := len(msgs) - 1; i >= len(after); i-- {
			if m := codeRe.FindStringSubmatch(msgs[i]); m != nil {
				return m[1]
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	return ""
}

// countSends counts the codes and temporary passwords sent to u during one
// conversation: more than one of either is doubled.
func (e *env) countSends(tl *tally, u user, before []string, id string) {
	time.Sleep(300 * time.Millisecond) // let queued sends land
	var codes, passwords int
	for _, m := range e.smsTo(u.mobile)[len(before):] {
		switch {
		case strings.Contains(m, "verification code"):
			codes++
		case strings.Contains(m, "temporary password"):
			passwords++
		}
	}
	if codes > 1 {
		tl.doubledSends.Add(int64(codes - 1))
		tl.note("%s %s: %d codes sent", id, u.login, codes)
	}
	if passwords > 1 {
		tl.doubledActs.Add(int64(passwords - 1))
		tl.note("%s %s: password reset %d times", id, u.login, passwords)
	}
}

// --- slack -------------------------------------------------------------------

// slackAckTimeout is Slack's: an event not acknowledged in 3 s is redelivered.
const slackAckTimeout = 3 * time.Second

// slackBackoff is Slack's redelivery schedule (1 min, 5 min in production),
// compressed.
var slackBackoff = []time.Duration{time.Second, 5 * time.Second, 15 * time.Second}

// deliverSlack delivers one event as Slack does: copies at once (to one
// replica or spread), each redelivered on a non-200 or a slow ack, at most
// three times, each time to the next replica.
func (e *env) deliverSlack(tl *tally, r route, body []byte) {
	var wg sync.WaitGroup
	for c := range r.copies {
		target := r.first
		if r.spread {
			target += c
		}
		wg.Go(func() {
			for try := 0; try <= len(slackBackoff); try++ {
				s := e.rep(target + try)
				if !alive(s) {
					s = e.rep(target + try + 1)
				}
				cl := *e.client(s)
				hc := *cl.HTTP
				hc.Timeout = slackAckTimeout
				cl.HTTP = &hc
				code, err := cl.PostSlack(body, try)
				if err == nil && code == http.StatusOK {
					return
				}
				if try == len(slackBackoff) {
					return
				}
				tl.redeliveries.Add(1)
				time.Sleep(slackBackoff[try])
			}
		})
	}
	wg.Wait()
}

// slackStep is one DM and what a proper reply says.
type slackStep struct{ text, want string }

// chat plays the start of a Slack reset for u (the DM turns) and counts it:
// every event must be answered exactly once.
func (e *env) chat(tl *tally, u user, id string, r func(step int) route, before func(step int)) {
	tl.convs.Add(1)
	uid := "U" + strings.ToUpper(id)
	ch := "D" + uid
	steps := []slackStep{{"reset", "username, work email or employee number"}, {u.login, "authenticator app"}}
	ok := true
	for i, st := range steps {
		if before != nil {
			before(i)
		}
		n0 := len(e.be.Slack.Posts(ch))
		e.deliverSlack(tl, r(i), procrig.SlackEvent(fmt.Sprintf("Ev%s%d", id, i), uid, ch, st.text))
		if !e.waitPost(ch, n0, st.want, 20*time.Second) {
			ok = false
			tl.note("%s slack step %d (%s): replies %q", id, i, st.want, texts(e.be.Slack.Posts(ch)[n0:]))
			break
		}
	}
	time.Sleep(300 * time.Millisecond) // a doubled reply lands late
	posts := e.be.Slack.Posts(ch)
	for _, p := range posts {
		if shownError(p.Text) {
			tl.errorsShown.Add(1)
		}
	}
	if extra := len(posts) - len(steps); ok && extra > 0 {
		tl.doubledSends.Add(int64(extra))
		tl.note("%s slack: %d replies to %d messages", id, len(posts), len(steps))
	}
	if ok {
		tl.done.Add(1)
	} else {
		tl.lost.Add(1)
	}
}

func texts(ps []procrig.Post) []string {
	var out []string
	for _, p := range ps {
		out = append(out, trim(p.Text))
	}
	return out
}

// waitPost waits until a post after the first n0 on ch says want.
func (e *env) waitPost(ch string, n0 int, want string, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		for _, p := range e.be.Slack.Posts(ch)[n0:] {
			if strings.Contains(p.Text, want) {
				return true
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	return false
}

// one routes every delivery of every step to replica i, one copy.
func one(i int) func(int) route { return func(int) route { return route{first: i, copies: 1} } }
