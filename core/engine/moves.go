package engine

import (
	"context"

	"github.com/looplab/fsm"
)

// moves is a flow's FSM table as looplab/fsm reads it, built once per flow:
// fsm.NewFSM builds these maps (and three more) on every call, which made
// it the largest allocation of a turn that fires an event.
type moves struct {
	// dst is the state an event leads to from a state; a later row of the
	// table wins, as in fsm.NewFSM.
	dst map[moveKey]string
	// named are the events with at least one source state.
	named map[string]bool
}

type moveKey struct{ event, src string }

func newMoves(events fsm.Events) *moves {
	m := &moves{dst: map[moveKey]string{}, named: map[string]bool{}}
	for _, e := range events {
		for _, src := range e.Src {
			m.dst[moveKey{e.Name, src}] = e.Dst
			m.named[e.Name] = true
		}
	}
	return m
}

// next is the state event leads to from cur, with the error
// fsm.(*FSM).Event returns for a machine at cur without callbacks:
// UnknownEventError or InvalidEventError when the table has no such move,
// NoTransitionError when it leads back to cur, and ctx's error when ctx has
// ended (the machine then stays at cur).
func (m *moves) next(ctx context.Context, event, cur string) (string, error) {
	dst, ok := m.dst[moveKey{event, cur}]
	switch {
	case !ok && m.named[event]:
		return cur, fsm.InvalidEventError{Event: event, State: cur}
	case !ok:
		return cur, fsm.UnknownEventError{Event: event}
	case dst == cur:
		return cur, fsm.NoTransitionError{}
	}
	if err := ctx.Err(); err != nil {
		return cur, err
	}
	return dst, nil
}
