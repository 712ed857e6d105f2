package bottest

import (
	"fmt"

	"github.com/pquerna/otp/totp"

	"sort"
	"strings"
	"testing"
	"time"
)

// NewPassword is the password the reset scenarios choose in a masked field.
const NewPassword = "Conformance-Horse-Battery-91"

// Run plays every scenario on the driver's channel as subtests. A scenario
// the driver lacks the capability for must be declared in Lacks (its
// reason is logged, the subtest passes without playing it); one declared
// although the capability is there, or neither, fails.
func Run(t *testing.T, d Driver) {
	t.Helper()
	if err := Check(d); err != nil {
		t.Fatal(err)
	}
	for _, sc := range Scenarios {
		t.Run(string(sc), func(t *testing.T) {
			c := d.Open(t)
			if why, ok := d.Lacks()[sc]; ok {
				if Missing(sc, c) == nil && needs[sc] != nil {
					t.Fatalf("%s declares it cannot play %s (%s) but has the capability: play it", d.Name(), sc, why)
				}
				t.Logf("%s cannot play %s: %s", d.Name(), sc, why)
				return
			}
			require(t, sc, c)
			plays[sc](t, c)
		})
	}
}

// needs names the optional capability each scenario needs beyond Channel.
var needs = map[Scenario]func(Channel) bool{
	ScenarioEnroll: func(c Channel) bool { _, ok := c.(Enroller); return ok },
	ScenarioForged: func(c Channel) bool { _, ok := c.(Forger); return ok },
	ScenarioReplay: func(c Channel) bool { _, ok := c.(Replayer); return ok },
	ScenarioBusy:   func(c Channel) bool { _, ok := c.(Holder); return ok },
	ScenarioExpiry: func(c Channel) bool { _, ok := c.(Clock); return ok },
}

// Check reports a driver whose declarations do not add up: a reason that
// is empty or names no scenario. Capabilities are checked per scenario
// when the channel is open (Run fails a scenario whose capability is
// missing and undeclared).
func Check(d Driver) error {
	var bad []string
	for sc, why := range d.Lacks() {
		if _, ok := plays[sc]; !ok {
			bad = append(bad, fmt.Sprintf("%q is not a scenario", sc))
		} else if strings.TrimSpace(why) == "" {
			bad = append(bad, fmt.Sprintf("%s is declared lacking without a reason", sc))
		}
	}
	sort.Strings(bad)
	if len(bad) > 0 {
		return fmt.Errorf("driver %s: %s", d.Name(), strings.Join(bad, "; "))
	}
	return nil
}

// require fails t when c lacks the capability sc needs: the driver neither
// implements it nor declared why not.
func require(t *testing.T, sc Scenario, c Channel) {
	t.Helper()
	if err := Missing(sc, c); err != nil {
		t.Fatal(err)
	}
}

// Missing reports the capability scenario sc needs that c lacks, if any.
func Missing(sc Scenario, c Channel) error {
	if ok := needs[sc]; ok != nil && !ok(c) {
		return fmt.Errorf("the channel (%T) lacks the capability %s needs and its driver does not declare why (Driver.Lacks)", c, sc)
	}
	return nil
}

var plays map[Scenario]func(*testing.T, Channel)

func init() {
	// A map literal here would form an initialization cycle through
	// Check; the table is filled once at start-up instead.
	plays = map[Scenario]func(*testing.T, Channel){
		ScenarioReset: playReset, ScenarioUnlock: playUnlock, ScenarioEnroll: playEnroll,
		ScenarioStale: playStale, ScenarioForged: playForged, ScenarioReplay: playReplay,
		ScenarioBusy: playBusy, ScenarioEscalation: playEscalation, ScenarioExpiry: playExpiry,
		ScenarioBadInput: playBadInput,
	}
}

// play is one conversation's bookkeeping: the secrets it used, for the sweep.
type play struct {
	t       *testing.T
	c       Channel
	secrets []string
	used    int    // Sent() when the last code was read
	seed    string // the authenticator set up for the person, if any
}

// authenticator sets one up for login, as an earlier enrollment would.
func (p *play) authenticator(login string) {
	p.t.Helper()
	p.seed = p.c.Authenticator(login)
	p.secrets = append(p.secrets, p.seed)
}

// totp types the authenticator's current code.
func (p *play) totp() Screen {
	p.t.Helper()
	code, err := totp.GenerateCode(p.seed, timeOf(p.c))
	if err != nil {
		p.t.Fatal(err)
	}
	p.secrets = append(p.secrets, code)
	return p.c.Say(code)
}

// code reads the newest one-time code, which must be new since the last one.
func (p *play) code() string {
	p.t.Helper()
	if n := p.c.Sent(); n <= p.used {
		p.t.Fatalf("no new code was sent (%d deliveries)", n)
	} else {
		p.used = n
	}
	code := p.c.Code()
	p.secrets = append(p.secrets, code)
	return code
}

// finish answers what the conversation asks (a new code, a masked new
// password) until the screen shows one of the done messages.
func (p *play) finish(s Screen, done ...string) Screen {
	p.t.Helper()
	for range 6 {
		for _, id := range done {
			if Shows(p.c, s, id) {
				return s
			}
		}
		switch {
		case s.Masked:
			p.secrets = append(p.secrets, NewPassword)
			s = p.c.Masked(NewPassword, NewPassword)
		case p.c.Sent() > p.used:
			s = p.c.Say(p.code())
		case p.seed != "" && Shows(p.c, s, "totp.prompt"):
			s = p.totp()
		default:
			p.t.Fatalf("the conversation is stuck before %v: shown %q, choices %q", done, s.Text, s.Choices)
		}
	}
	p.t.Fatalf("the conversation never reached %v; last shown %q", done, s.Text)
	return s
}

// sweep greps everything the conversation produced for its secrets. A
// conversation always audits, stores and answers: an empty stream means
// the driver captures nothing there, and the sweep would prove nothing.
func (p *play) sweep() {
	p.t.Helper()
	c := p.c.Captured()
	if c.Audit == "" || len(c.Stored) == 0 || len(c.Outbound) == 0 {
		p.t.Errorf("sweep: the driver captured no audit (%d bytes), stored values (%d) or outbound bodies (%d)",
			len(c.Audit), len(c.Stored), len(c.Outbound))
	}
	if i, ok := p.c.(Issuer); ok {
		p.secrets = append(p.secrets, i.Issued()...)
	}
	Sweep(p.t, c, p.secrets...)
}

// Shows reports whether the screen shows the catalogued message id (its
// longest fixed part, for a message with placeholders) as c renders it.
func Shows(c Channel, s Screen, id string) bool {
	return strings.Contains(s.Text, Fixed(c, id))
}

// names are the placeholders of the messages the suite looks for.
var names = []string{"ref", "min", "minutes", "option", "digit", "destination", "login", "name", "phrase", "key"}

// Fixed is the longest fixed part of message id as c renders it: the
// message is rendered with two different values for every placeholder
// (a voice renderer spells or drops what it cannot say, so a cut mark would
// not survive), and the longer of the common prefix and suffix is kept.
func Fixed(c Channel, id string) string {
	if r, ok := c.(Renamer); ok {
		id = r.Rename(id)
	}
	one, two := map[string]string{}, map[string]string{}
	for _, n := range names {
		one[n], two[n] = "1", "2"
	}
	a := c.Messages().Text("en", id, c.Voice(), one)
	b := c.Messages().Text("en", id, c.Voice(), two)
	p := 0
	for p < len(a) && p < len(b) && a[p] == b[p] {
		p++
	}
	q := 0
	for q < len(a)-p && q < len(b)-p && a[len(a)-1-q] == b[len(b)-1-q] {
		q++
	}
	prefix, suffix := strings.TrimSpace(a[:p]), strings.TrimSpace(a[len(a)-q:])
	if len(suffix) > len(prefix) {
		return suffix
	}
	return prefix
}

func mustShow(t *testing.T, c Channel, s Screen, ids ...string) {
	t.Helper()
	for _, id := range ids {
		if Shows(c, s, id) {
			return
		}
	}
	t.Fatalf("want one of %v shown; shown %q, choices %q", ids, s.Text, s.Choices)
}

// startSMS opens a reset for amartin (who has an authenticator, so that
// every channel's policy has a second factor after the text message) and
// picks the text message: the code is sent, and the screen asks for it.
func (p *play) startSMS() (first, asked Screen) {
	p.t.Helper()
	p.authenticator("amartin")
	first = p.c.Start(Reset, "amartin")
	asked = p.c.Choose(first, "factor.sms")
	if p.c.Sent() != 1 {
		p.t.Fatalf("choosing the text message sent %d messages, want 1; shown %q", p.c.Sent(), asked.Text)
	}
	return first, asked
}

// elapse is past the session's idle timeout (15 min) and within the time
// its record is kept, so the engine can tell the person it expired.
const elapse = 16 * time.Minute

// timeOf is the channel's clock, or the wall clock.
func timeOf(c Channel) time.Time {
	if k, ok := c.(Clock); ok {
		return k.Now()
	}
	return time.Now()
}
