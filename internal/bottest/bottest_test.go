package bottest_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/resetbot/resetbot/internal/bottest"
)

// spy records failures instead of failing the test.
type spy struct {
	testing.TB
	errs []string
}

func (s *spy) Helper()                   {}
func (s *spy) Errorf(f string, a ...any) { s.errs = append(s.errs, fmt.Sprintf(f, a...)) }
func (s *spy) Fatalf(f string, a ...any) { s.errs = append(s.errs, fmt.Sprintf(f, a...)); panic(s) }
func (s *spy) sweep(c bottest.Captured, secrets ...string) (errs []string) {
	defer func() {
		if r := recover(); r != nil && r != any(s) {
			panic(r)
		}
		errs = s.errs
	}()
	bottest.Sweep(s, c, secrets...)
	return nil
}

func clean() bottest.Captured {
	return bottest.Captured{Logs: `{"msg":"turn"}`, Audit: `{"event":"flow.start"}`,
		Stored: []string{"sess:{slack:U1}=..."}, Outbound: []string{`{"text":"hello"}`}}
}

// TestSweepFindsEveryStream: a secret in any one stream fails the sweep,
// and the failure does not print the secret whole.
func TestSweepFindsEveryStream(t *testing.T) {
	const pw = "Leaky-Horse-Battery-1"
	for name, leak := range map[string]func(*bottest.Captured){
		"log":      func(c *bottest.Captured) { c.Logs += pw },
		"audit":    func(c *bottest.Captured) { c.Audit += pw },
		"store":    func(c *bottest.Captured) { c.Stored = append(c.Stored, "k="+pw) },
		"outbound": func(c *bottest.Captured) { c.Outbound = append(c.Outbound, `{"text":"`+pw+`"}`) },
	} {
		t.Run(name, func(t *testing.T) {
			c := clean()
			leak(&c)
			errs := (&spy{TB: t}).sweep(c, "123456", pw)
			if len(errs) != 1 || !strings.Contains(errs[0], "the "+name) || strings.Contains(errs[0], pw) {
				t.Fatalf("errors %q", errs)
			}
		})
	}
	if errs := (&spy{TB: t}).sweep(clean(), "123456", pw); len(errs) != 0 {
		t.Fatalf("a clean capture failed: %q", errs)
	}
}

// TestSweepFindsCodesAsNumbers: a code is found wherever it is written as a
// number, and not inside the digits of a timestamp or a hexadecimal ID,
// where six random digits turn up by chance.
func TestSweepFindsCodesAsNumbers(t *testing.T) {
	const code = "440512"
	for _, leak := range []string{"your code is 440512.", `"code":"440512"`, "code=440512", "440512", "4405 12 and 440512"} {
		c := clean()
		c.Logs += leak
		if errs := (&spy{TB: t}).sweep(c, code); len(errs) != 1 {
			t.Errorf("%q: errors %q", leak, errs)
		}
	}
	for _, chance := range []string{`"time":"2026-12-06T05:16:36.374405512Z"`, `"session":"4fbb977a440512a1"`, "98844051277"} {
		c := clean()
		c.Audit += chance
		if errs := (&spy{TB: t}).sweep(c, code); len(errs) != 0 {
			t.Errorf("%q: errors %q", chance, errs)
		}
	}
}

// TestSweepRefusesWhatProvesNothing: a secret under the threshold, and a
// capture with an empty stream, fail.
func TestSweepRefusesWhatProvesNothing(t *testing.T) {
	if errs := (&spy{TB: t}).sweep(clean(), "12345"); len(errs) != 1 || !strings.Contains(errs[0], "too short") {
		t.Fatalf("short secret: %q", errs)
	}
	if errs := (&spy{TB: t}).sweep(bottest.Captured{}, "123456"); len(errs) != 1 || !strings.Contains(errs[0], "prove nothing") {
		t.Fatalf("empty capture: %q", errs)
	}
}

type fakeDriver struct{ lacks map[bottest.Scenario]string }

func (fakeDriver) Name() string                         { return "fake" }
func (d fakeDriver) Lacks() map[bottest.Scenario]string { return d.lacks }
func (fakeDriver) Open(*testing.T) bottest.Channel      { return nil }

// TestCheckRefusesBadDeclarations: a lack without a reason, or of no
// scenario, is refused.
func TestCheckRefusesBadDeclarations(t *testing.T) {
	for name, lacks := range map[string]map[bottest.Scenario]string{
		"no reason":   {bottest.ScenarioReplay: " "},
		"no scenario": {"teleport": "cannot"},
	} {
		if err := bottest.Check(fakeDriver{lacks}); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if err := bottest.Check(fakeDriver{map[bottest.Scenario]string{bottest.ScenarioReplay: "a terminal"}}); err != nil {
		t.Error(err)
	}
}

// bare is a channel with no optional capability.
type bare struct{ bottest.Channel }

// TestMissingCapability: a scenario whose capability the channel lacks is
// reported (Run fails it unless the driver declared why).
func TestMissingCapability(t *testing.T) {
	for _, sc := range []bottest.Scenario{bottest.ScenarioEnroll, bottest.ScenarioForged, bottest.ScenarioReplay,
		bottest.ScenarioBusy, bottest.ScenarioExpiry} {
		if bottest.Missing(sc, bare{}) == nil {
			t.Errorf("%s: a channel without the capability passed", sc)
		}
	}
	if err := bottest.Missing(bottest.ScenarioReset, bare{}); err != nil {
		t.Error(err)
	}
}
