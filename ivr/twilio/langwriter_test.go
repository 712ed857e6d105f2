package twilio

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/resetbot/resetbot/core/store"
)

// batchStore records how languages reach the store.
type batchStore struct {
	mu      sync.Mutex
	batches [][]string // keys per SetMany call
	sets    int        // single Set calls
	vals    map[string]string
	release chan struct{} // when non-nil, SetMany waits for it
}

func (s *batchStore) Get(_ context.Context, key string) (store.Record, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if v, ok := s.vals[key]; ok {
		return store.Record{Value: []byte(v), Version: 1}, nil
	}
	return store.Record{}, store.ErrNotFound
}

func (s *batchStore) Set(_ context.Context, key string, v []byte, _ time.Duration) (uint64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sets++
	s.vals[key] = string(v)
	return 1, nil
}

func (s *batchStore) SetMany(_ context.Context, keys []string, vals [][]byte, _ time.Duration) error {
	if s.release != nil {
		<-s.release
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.batches = append(s.batches, keys)
	for i, k := range keys {
		s.vals[k] = string(vals[i])
	}
	return nil
}

// TestLanguageWriterBatches: languages chosen while a batch is being
// written go to the store together in one SetMany, never one Set each;
// until written they are served from the writer; close writes the rest.
func TestLanguageWriterBatches(t *testing.T) {
	st := &batchStore{vals: map[string]string{}, release: make(chan struct{})}
	w := newLanguageWriter(st, time.Hour, slog.New(slog.DiscardHandler))
	w.add("k0", "es") // its batch blocks in SetMany until released
	for !w.writing0("k0") {
		time.Sleep(time.Millisecond) // wait for the writer to take k0 (no timing asserted)
	}
	for _, k := range []string{"k1", "k2", "k3"} {
		w.add(k, "fr")
	}
	for _, k := range []string{"k0", "k1", "k2", "k3"} {
		if l, ok := w.lookup(k); !ok {
			t.Errorf("%s not served before it is written (%q)", k, l)
		}
	}
	close(st.release)
	w.close()
	st.mu.Lock()
	sets, batches := st.sets, st.batches
	k0, k3 := st.vals["k0"], st.vals["k3"]
	st.mu.Unlock()
	if sets != 0 || len(batches) != 2 || len(batches[1]) != 3 {
		t.Fatalf("writes: %d Set, SetMany batches %v; want 0 Set and [k0] then [k1 k2 k3]", sets, batches)
	}
	if k0 != "es" || k3 != "fr" {
		t.Fatalf("stored k0=%q k3=%q", k0, k3)
	}
	if _, ok := w.lookup("k2"); ok {
		t.Error("a written language is still held by the writer")
	}
	w.add("k9", "es") // after close: written at once
	if rec, err := st.Get(context.Background(), "k9"); err != nil || string(rec.Value) != "es" {
		t.Fatalf("after close: %q, %v", rec.Value, err)
	}
}

// writing0 reports whether key is in the batch being written.
func (w *languageWriter) writing0(key string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	_, ok := w.writing[key]
	return ok
}

// TestLanguageWriterSkipsUnchanged: a language the store is known to hold
// for the number (written by this writer, or read at a call's start) is not
// written again within languageKnown; another language is, and so is the
// same one once that has passed or once the store was found without it.
func TestLanguageWriterSkipsUnchanged(t *testing.T) {
	st := &batchStore{vals: map[string]string{}}
	w := newLanguageWriter(st, time.Hour, slog.New(slog.DiscardHandler))
	var mu sync.Mutex
	clock := time.Unix(1e9, 0)
	w.mu.Lock()
	w.now = func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }
	w.mu.Unlock()
	advance := func(d time.Duration) { mu.Lock(); clock = clock.Add(d); mu.Unlock() }
	writes := func() int {
		w.flushNow()
		st.mu.Lock()
		defer st.mu.Unlock()
		n := st.sets
		for _, b := range st.batches {
			n += len(b)
		}
		return n
	}
	w.add("k", "es")
	if n := writes(); n != 1 {
		t.Fatalf("first choice: %d writes, want 1", n)
	}
	w.add("k", "es")
	if n := writes(); n != 1 {
		t.Fatalf("the same language again: %d writes in all, want still 1", n)
	}
	w.add("k", "fr")
	if n := writes(); n != 2 {
		t.Fatalf("another language: %d writes in all, want 2", n)
	}
	w.learn("k", "es") // a call's start read es (another replica wrote it)
	w.add("k", "es")
	if n := writes(); n != 2 {
		t.Fatalf("the language just read: %d writes in all, want still 2", n)
	}
	advance(languageKnown)
	w.add("k", "es")
	if n := writes(); n != 3 {
		t.Fatalf("after languageKnown: %d writes in all, want 3", n)
	}
	w.learn("k", "") // the store was found without it
	w.add("k", "es")
	if n := writes(); n != 4 {
		t.Fatalf("after a miss: %d writes in all, want 4", n)
	}
	w.close()
}

// flushNow waits until what is pending has been written.
func (w *languageWriter) flushNow() {
	for {
		w.mu.Lock()
		idle := len(w.pending) == 0 && w.writing == nil
		w.mu.Unlock()
		if idle {
			return
		}
		time.Sleep(time.Millisecond)
	}
}
