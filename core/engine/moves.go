package engine

import (
	"context"
	"errors"
	"sync"

	"github.com/looplab/fsm"
)

// moves are a flow's looplab/fsm machines, built from its table once and
// reused: fsm.NewFSM builds its transition and callback maps on every call,
// which made a machine per event the largest allocation of a turn. A
// machine serves one event at a time: it is set to the session's state,
// fires, and goes back to the pool only when it settled (a machine whose
// event ended with its context keeps a pending transition: it is dropped).
type moves struct{ pool sync.Pool }

func newMoves(f *Flow) *moves {
	m := &moves{}
	m.pool.New = func() any { return fsm.NewFSM(f.Initial, f.Events, nil) }
	return m
}

// next is the state event leads to from cur in flow f, and the error f's
// machine at cur gives for it (fsm.NoTransitionError when it leads back to
// cur, fsm.InvalidEventError or fsm.UnknownEventError when the table has no
// such move, the context's error when it has ended). m may be nil (an
// Engine not built by New): a machine is then built for this event only.
func (m *moves) next(ctx context.Context, f *Flow, event, cur string) (string, error) {
	if m == nil {
		mc := fsm.NewFSM(cur, f.Events, nil)
		err := mc.Event(ctx, event)
		return mc.Current(), err
	}
	mc := m.pool.Get().(*fsm.FSM)
	mc.SetState(cur)
	err := mc.Event(ctx, event)
	to := mc.Current()
	if settled(err) {
		m.pool.Put(mc)
	}
	return to, err
}

// settled says whether a machine whose event returned err is ready for
// another event.
func settled(err error) bool {
	var (
		nt  fsm.NoTransitionError
		inv fsm.InvalidEventError
		unk fsm.UnknownEventError
	)
	return err == nil || errors.As(err, &nt) || errors.As(err, &inv) || errors.As(err, &unk)
}
