package app_test

import (
	"strconv"
	"testing"

	"github.com/resetbot/resetbot/internal/testserver"
)

// benchReset runs one full chat reset conversation per iteration (start,
// login, SMS code, email code, new password) through the engine of an app
// built from YAML, against a real server. The verification floor is off, so
// the time is the engine, the flows, the store and the directory round trips.
func benchReset(b *testing.B, r *rig, login string) {
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		pw := "Lantern-Violet-Ocean-" + strconv.Itoa(i)
		rep := r.chatReset("B"+strconv.Itoa(i), login, pw)
		if rep.State != "done" {
			b.Fatalf("iteration %d ended in %s: %v", i, rep.State, ids(rep))
		}
		r.lines, r.secrets = r.lines[:0], r.secrets[:0]
	}
}

func BenchmarkResetSlapd(b *testing.B) {
	s := testserver.Slapd(b)
	benchReset(b, newRig(b, yamlConfig(b, demoHead+slapdDir, slapdEnv(s))), slapdAlice.Login)
}

func BenchmarkResetSamba(b *testing.B) {
	s := testserver.SambaDC(b)
	benchReset(b, newRig(b, yamlConfig(b, demoHead+sambaDir, sambaEnv(s))), testserver.SambaJDoe.Login)
}
