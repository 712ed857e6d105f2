package outreach_test

import (
	"testing"
	"time"

	"github.com/resetbot/resetbot/core/outreach"
	"github.com/resetbot/resetbot/core/store/memory"
)

// A kind that embeds NoticeRecord, as the lockout notice does.
type lockedNotice struct {
	outreach.NoticeRecord
	LockedAt time.Time `json:"at"`
}

// ReadNotice lets only the addressee answer, answers missing and corrupt
// records like someone else's, and reads the flat JSON the notices were
// stored in before the record was shared (so stored notices keep working
// across the upgrade).
func TestReadNoticeOnlyForTheAddressee(t *testing.T) {
	st := memory.New()
	ctx := t.Context()
	flat := `{"d":"ad","u":"cn=alice","c":"slack","cu":"T1:U1","at":"2026-12-06T07:12:00Z"}`
	if _, err := st.Set(ctx, "n1", []byte(flat), time.Hour); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Set(ctx, "bad", []byte("{"), time.Hour); err != nil {
		t.Fatal(err)
	}
	alice := outreach.Recipient{Channel: "slack", User: "T1:U1"}
	for _, tc := range []struct {
		name, key string
		who       outreach.Recipient
		want      bool
	}{
		{"addressee", "n1", alice, true},
		{"other user", "n1", outreach.Recipient{Channel: "slack", User: "T1:U2"}, false},
		{"other channel", "n1", outreach.Recipient{Channel: "teams", User: "T1:U1"}, false},
		{"missing", "n2", alice, false},
		{"corrupt", "bad", alice, false},
	} {
		var n lockedNotice
		ok, err := outreach.ReadNotice(ctx, st, tc.key, tc.who, &n)
		if err != nil || ok != tc.want {
			t.Errorf("%s: ReadNotice = %v, %v; want %v", tc.name, ok, err, tc.want)
		}
		if tc.want && (n.Actor() != "ad:cn=alice" || !n.LockedAt.Equal(time.Date(2026, 12, 6, 7, 12, 0, 0, time.UTC))) {
			t.Errorf("%s: read %+v", tc.name, n)
		}
	}
}
