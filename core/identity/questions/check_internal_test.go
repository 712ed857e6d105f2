package questions

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/resetbot/resetbot/core/crypt"
	"github.com/resetbot/resetbot/core/identity"
	"github.com/resetbot/resetbot/core/secret"
	"github.com/resetbot/resetbot/core/store/memory"
)

// TestCheckAlwaysHashes shows that Check takes a hashing slot (and so hashes)
// whatever the id, by holding the only slot: every call must then wait for it
// until its context ends, including those that end Expired.
func TestCheckAlwaysHashes(t *testing.T) {
	kr, err := crypt.NewKeyring("k1", map[string][]byte{"k1": bytes.Repeat([]byte{9}, crypt.KeySize)})
	if err != nil {
		t.Fatal(err)
	}
	q := New(memory.New(), kr, Options{
		Catalog: []Question{{ID: "pet", MessageID: "m.pet"}, {ID: "city", MessageID: "m.city"}, {ID: "school", MessageID: "m.school"}},
		Ask:     1, MinEnrolled: 2, MaxConcurrentHashes: 1,
		Argon2: Argon2Params{Time: 1, MemoryKiB: 64, Threads: 1},
	})
	ctx := context.Background()
	if err := q.Enroll(ctx, "u", map[string]secret.String{"pet": secret.New("fluffy"), "city": secret.New("paris")}); err != nil {
		t.Fatal(err)
	}
	pick, err := q.Pick(ctx, "u")
	if err != nil {
		t.Fatal(err)
	}
	other := map[string]string{"pet": "city", "city": "pet"}[pick[0]]
	q.hashing <- struct{}{} // hold the only slot
	defer q.release()
	for _, id := range []string{pick[0], other, "school", "unknown"} {
		t.Run(id, func(t *testing.T) {
			short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
			defer cancel()
			res, err := q.Check(short, "u", id, secret.New("paris"))
			if !errors.Is(err, context.DeadlineExceeded) || res != identity.Wrong {
				t.Errorf("Check(%s) = %v, %v; want it to wait for a hashing slot", id, res, err)
			}
		})
	}
}

func TestDecoyNeverMatches(t *testing.T) {
	q := &Questions{opts: Options{Argon2: Argon2Params{Time: 1, MemoryKiB: 64, Threads: 1}.withDefaults()}}
	for _, a := range []string{"", "fluffy", "\x00"} {
		if ok, err := matches([]byte(a), q.decoy()); ok || err != nil {
			t.Errorf("decoy vs %q: %v, %v", a, ok, err)
		}
	}
}
