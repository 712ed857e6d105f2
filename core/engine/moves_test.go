package engine

import (
	"context"
	"errors"
	"reflect"
	"testing"

	"github.com/looplab/fsm"
)

// TestMovesAreWhatFSMDoes: for every state and event of a table (with a
// repeated row, a loop, an event without sources and an unknown event),
// with ended and live contexts in turn, a pooled machine's move is the
// state and the error a fresh looplab/fsm machine gives, as fire built one
// per event: a machine left pending by an ended context is not reused.
func TestMovesAreWhatFSMDoes(t *testing.T) {
	events := fsm.Events{
		{Name: "go", Src: []string{"a", "b"}, Dst: "c"},
		{Name: "go", Src: []string{"b"}, Dst: "d"},
		{Name: "stay", Src: []string{"a", "c"}, Dst: "c"},
		{Name: "back", Src: []string{"c", "d"}, Dst: "a"},
		{Name: "nowhere", Dst: "a"},
	}
	flow := &Flow{Initial: "a", Events: events}
	m := newMoves(flow)
	live := context.Background()
	ended, cancel := context.WithCancel(live)
	cancel()
	for _, state := range []string{"a", "b", "c", "d", "x"} {
		for _, ev := range []string{"go", "stay", "back", "nowhere", "unknown"} {
			for _, ctx := range []context.Context{ended, live, ended, live} {
				f := fsm.NewFSM(state, events, nil)
				wantErr := f.Event(ctx, ev)
				got, err := m.next(ctx, flow, ev, state)
				if got != f.Current() || !reflect.DeepEqual(err, wantErr) {
					t.Errorf("%s from %s (ctx %v): got %s, %v; fsm %s, %v", ev, state, ctx.Err(), got, err, f.Current(), wantErr)
				}
				var nt fsm.NoTransitionError
				if errors.As(err, &nt) != errors.As(wantErr, &nt) {
					t.Errorf("%s from %s: NoTransitionError differs", ev, state)
				}
			}
		}
	}
}
