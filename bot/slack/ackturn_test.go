package slack

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/resetbot/resetbot/internal/bottest"
)

// hold takes user's conversation lease as another turn would (a failover,
// a turn on another replica); release gives it back.
func (e *env) hold(user string) (release func()) {
	return bottest.HoldSession(e.t, e.a.Store, Channel, userKey(testTeam, user))
}

func (e *env) httpDo(path string, form url.Values) (int, string) {
	e.t.Helper()
	w := e.tr.(*httpTransport).do(path, "application/x-www-form-urlencoded", []byte(form.Encode()))
	return w.Code, w.Body.String()
}

// TestCommandAckedAfterCommit: a slash command is acknowledged only once
// its turn has committed and its reply is posted; one whose turn cannot
// commit (its conversation held) is answered 503 and posts nothing, so that
// Slack shows the person an error instead of an "ok" for an input that was
// dropped. (A click on a held conversation: the conformance suite's
// busy_session.)
func TestCommandAckedAfterCommit(t *testing.T) {
	e := newEnv(t, false)
	cmd := func(trigger string) (int, string) {
		return e.httpDo(PathCommands, url.Values{"command": {"/resetpassword"}, "team_id": {testTeam}, "user_id": {"U2"},
			"channel_id": {"C1"}, "api_app_id": {"A1"}, "trigger_id": {trigger}})
	}
	release := e.hold("U2")
	n := e.f.postCount()
	if code, _ := cmd("trg-c1"); code != http.StatusServiceUnavailable || len(e.f.postsSince(n)) != 0 {
		t.Fatalf("command on a held conversation: status %d, %d posts; want 503 and none", code, len(e.f.postsSince(n)))
	}
	release()
	code, body := cmd("trg-c2")
	if code != http.StatusOK || !strings.Contains(body, "ephemeral") {
		t.Fatalf("command: %d %s", code, body)
	}
	if got := e.f.postsSince(n); len(got) == 0 || got[0].Channel != "DU2" {
		t.Fatalf("at the ack of the command the DM has %q", texts(got))
	}
}

// TestModalSubmissionFromCommittedTurn: a submission whose turn cannot
// commit is answered 503 (the modal stays open with what was typed) and
// nothing is posted; once it can, a wrong code is refused inside the modal
// from the committed turn.
func TestModalSubmissionFromCommittedTurn(t *testing.T) {
	e := newEnv(t, false)
	posts := e.click("U1", e.find(e.dm("U1", "reset"), e.msg("factor.sms")))
	meta, _ := e.openModal("U1", e.find(posts, e.msg("chat.button.code")))
	code := e.lastCode()
	release := e.hold("U1")
	n := e.f.postCount()
	if st, _ := e.httpDo(PathInteractivity, url.Values{"payload": {string(submitPayload("U1", "trg-s1", meta, code))}}); st != http.StatusServiceUnavailable {
		t.Fatalf("submission on a held conversation: status %d, want 503", st)
	}
	if got := e.f.postsSince(n); len(got) != 0 {
		t.Fatalf("a submission that did not commit posted %q", texts(got))
	}
	release()
	resp, _ := e.submit("U1", meta, "000000")
	if resp["response_action"] != "errors" {
		t.Fatalf("wrong code: ack %v, want the refusal in the modal", resp)
	}
	e.assertNoLeak()
}

// TestFailedPostShownOnRedelivery: when chat.postMessage keeps failing
// after its retries, the event is not acknowledged (503) and the committed
// reply is kept; Slack's redelivery posts it once, without running the turn
// again, and is acknowledged. A single failure is retried within the
// budget.
func TestFailedPostShownOnRedelivery(t *testing.T) {
	e := newEnv(t, false)
	e.f.failNextPosts(1)
	n := e.f.postCount()
	if code := e.tr.event(t, messageEvent("EvOnce", "U1", "DU1", "reset")); code != http.StatusOK {
		t.Fatalf("one failed post: status %d, want 200 after the retry", code)
	}
	if got := e.f.postsSince(n); len(got) != 1 {
		t.Fatalf("one failed post: %d posts", len(got))
	}

	e.f.failNextPosts(postTries)
	n, turns := e.f.postCount(), e.spy.turns.Load()
	body := messageEvent("EvFail", "U2", "DU2", "reset")
	if code := e.tr.event(t, body); code != http.StatusServiceUnavailable {
		t.Fatalf("failed post: status %d, want 503", code)
	}
	if got := e.f.postsSince(n); len(got) != 0 {
		t.Fatalf("failed post: %d posts", len(got))
	}
	if !e.logs.Contains(`kept for Slack's redelivery`) {
		t.Fatal("the failed reply was not kept")
	}
	if code := e.tr.event(t, body); code != http.StatusOK {
		t.Fatalf("redelivery: status %d, want 200", code)
	}
	if got := e.f.postsSince(n); len(got) != 1 || got[0].Channel != "DU2" || got[0].Text == "" {
		t.Fatalf("redelivery posted %q, want the reply once", texts(got))
	}
	if e.spy.turns.Load() != turns+1 {
		t.Fatalf("%d turns ran for one event and its redelivery, want 1", e.spy.turns.Load()-turns)
	}
	if code := e.tr.event(t, body); code != http.StatusOK || len(e.f.postsSince(n)) != 1 {
		t.Fatalf("second redelivery: status %d, %d posts", code, len(e.f.postsSince(n)))
	}
}

// TestTurnQueuedPastTheAckBudgetIsNotRun: a turn that waited in the queue
// until its request was answered 503 (an overload) does not run: Slack
// delivers the event again, and running it now would spend a worker on a
// reply nobody acknowledges. A turn whose request still waits runs.
func TestTurnQueuedPastTheAckBudgetIsNotRun(t *testing.T) {
	e := newEnv(t, false)
	gone, cancel := context.WithCancel(t.Context())
	cancel()
	turns, posts := e.spy.turns.Load(), e.f.postCount()
	j := job{team: testTeam, user: "U1", channel: "DU1", delivery: "e:Ev-late", input: typed("hello"), redelivered: true,
		verdict: make(chan verdict, 1), waiting: gone}
	e.b.runEvent(t.Context(), &j)
	if n := e.spy.turns.Load() - turns; n != 0 || e.f.postCount() != posts || len(j.verdict) != 0 {
		t.Fatalf("a turn whose request was answered 503 ran %d times and posted %d", n, e.f.postCount()-posts)
	}
	j.waiting, j.delivery = t.Context(), "e:Ev-waited"
	e.b.runEvent(t.Context(), &j)
	if n := e.spy.turns.Load() - turns; n != 1 || e.f.postCount() != posts+1 || <-j.verdict != verdictAck {
		t.Fatalf("a turn whose request waits ran %d times and posted %d", n, e.f.postCount()-posts)
	}
}
