package transcript_test

import (
	"slices"
	"testing"

	"github.com/resetbot/resetbot/internal/transcript"
)

func TestRunsCountsEachConversation(t *testing.T) {
	const golden = `> start reset
< identify.as.reset login=amartin
< totp.prompt <digits 6-6> (sensitive)
= reset/verify_factor ended=false
> text <code>
= reset/verify_factor ended=false
> text <code>
= reset/new_password ended=false
> secret (masked)
< reset.done
= reset/done ended=true
> start unlock
> text <code>
= unlock/done ended=true
> incoming
> press 2 (unlock)
> press 10041
> hangup
`
	runs := transcript.Runs(golden)
	if len(runs) != 3 {
		t.Fatalf("%d runs: %+v", len(runs), runs)
	}
	want := []transcript.Run{
		{Flow: "reset", State: "done", Actions: 4},
		{Flow: "unlock", State: "done", Actions: 2},
		{Actions: 2},
	}
	for i, w := range want {
		if runs[i].Flow != w.Flow || runs[i].State != w.State || runs[i].Actions != w.Actions {
			t.Errorf("run %d = %+v, want %+v", i, runs[i], w)
		}
	}
	if !slices.Equal(runs[2].Inputs, []string{"press 2 (unlock)", "press 10041"}) {
		t.Errorf("phone inputs %v", runs[2].Inputs)
	}
	if n, ok := transcript.Count(golden, "unlock"); !ok || n != 2 {
		t.Errorf("Count unlock = %d, %v", n, ok)
	}
	if _, ok := transcript.Count(golden, "enroll"); ok {
		t.Error("Count found a flow that is not there")
	}
}
