package twilio

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// The caller-language write is not part of any turn: the caller hears the
// menu in their language whether or not the write lands, and a lost write
// only means the language menu plays on their next call. So it is taken off
// the turn's path and batched: the turn that chose a language makes its two
// store round trips (acquire, commit) and no third, and one background
// writer stores the languages of many calls in one pipelined round trip
// (SetMany), a few milliseconds later. Until written, a language is served
// from the writer's memory, so this replica's next call from that number
// already skips the menu.
//
// A language the writer knows the store already holds for the number (it
// wrote it, or a call's start read it, less than languageKnown ago) is not
// written again: a caller choosing the same language again costs no round
// trip at all.
const (
	// languageLinger is how long the writer waits after the first pending
	// language for others to join its batch.
	languageLinger = 5 * time.Millisecond
	// languagePending bounds the languages waiting to be written (the
	// memory a flood of first calls can take); past it a write is dropped,
	// logged and the caller hears the menu next time.
	languagePending = 4096
	// languageKnown is how long the writer trusts what it last wrote or
	// read for a number. The memory lasts months, so a refresh skipped
	// changes nothing; it is kept short because another replica may write
	// the number meanwhile (every call's start reads it afresh: recall).
	languageKnown = time.Minute
	// languageKnownMax bounds the numbers known; past it they are forgotten
	// (the next choice is written).
	languageKnownMax = 4096
)

// languageBatchStore is a store that writes many keys in one round trip
// (core/store/redis). Other stores get one Set per language.
type languageBatchStore interface {
	SetMany(ctx context.Context, keys []string, values [][]byte, ttl time.Duration) error
}

// languageWriter writes remembered languages behind the turns.
type languageWriter struct {
	st  LanguageStore
	ttl time.Duration
	log *slog.Logger
	now func() time.Time

	mu      sync.Mutex
	pending map[string]string // key -> language, not yet being written
	writing map[string]string // the batch being written
	known   map[string]knownLanguage
	closed  bool
	wake    chan struct{}
	stop    chan struct{}
	done    chan struct{}
}

func newLanguageWriter(st LanguageStore, ttl time.Duration, log *slog.Logger) *languageWriter {
	w := &languageWriter{st: st, ttl: ttl, log: log, now: time.Now, pending: map[string]string{},
		known: map[string]knownLanguage{},
		wake:  make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	go w.run()
	return w
}

// knownLanguage is a language the store holds for a number, as of exp minus
// languageKnown.
type knownLanguage struct {
	lang string
	exp  time.Time
}

// add queues loc for key, unless the store is known to hold it already;
// after close it writes at once.
func (w *languageWriter) add(key, loc string) {
	w.mu.Lock()
	if k, ok := w.known[key]; ok && k.lang == loc && w.now().Before(k.exp) {
		w.mu.Unlock()
		return
	}
	if w.closed {
		w.mu.Unlock()
		w.write(map[string]string{key: loc})
		return
	}
	if _, ok := w.pending[key]; !ok && len(w.pending) >= languagePending {
		w.mu.Unlock()
		w.log.Warn("call language not remembered: too many waiting to be written")
		return
	}
	w.pending[key] = loc
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// learn notes that the store holds loc for key ("" : holds nothing).
func (w *languageWriter) learn(key, loc string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if loc == "" {
		delete(w.known, key)
		return
	}
	if len(w.known) >= languageKnownMax {
		clear(w.known)
	}
	w.known[key] = knownLanguage{lang: loc, exp: w.now().Add(languageKnown)}
}

// lookup returns a language queued or being written for key.
func (w *languageWriter) lookup(key string) (string, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if l, ok := w.pending[key]; ok {
		return l, true
	}
	l, ok := w.writing[key]
	return l, ok
}

func (w *languageWriter) run() {
	defer close(w.done)
	for {
		select {
		case <-w.wake:
		case <-w.stop:
			w.flush()
			return
		}
		t := time.NewTimer(languageLinger)
		select {
		case <-t.C:
		case <-w.stop:
			t.Stop()
		}
		w.flush()
	}
}

// flush writes what is pending, in one batch.
func (w *languageWriter) flush() {
	w.mu.Lock()
	batch := w.pending
	w.writing, w.pending = batch, map[string]string{}
	w.mu.Unlock()
	if len(batch) > 0 {
		w.write(batch)
	}
	w.mu.Lock()
	w.writing = nil
	w.mu.Unlock()
}

// write stores batch within memoryBudget.
func (w *languageWriter) write(batch map[string]string) {
	ctx, cancel := context.WithTimeout(context.Background(), memoryBudget)
	defer cancel()
	if bs, ok := w.st.(languageBatchStore); ok {
		keys, vals := make([]string, 0, len(batch)), make([][]byte, 0, len(batch))
		for k, l := range batch {
			keys, vals = append(keys, k), append(vals, []byte(l))
		}
		if err := bs.SetMany(ctx, keys, vals, w.ttl); err != nil {
			w.log.Warn("call languages not remembered", "count", len(batch), "err", err)
			return
		}
		for k, l := range batch {
			w.learn(k, l)
		}
		return
	}
	for k, l := range batch {
		if _, err := w.st.Set(ctx, k, []byte(l), w.ttl); err != nil {
			w.log.Warn("call language not remembered", "err", err)
			continue
		}
		w.learn(k, l)
	}
}

// close writes what is pending and stops the writer; later languages are
// written at once.
func (w *languageWriter) close() {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return
	}
	w.closed = true
	w.mu.Unlock()
	close(w.stop)
	<-w.done
}
