package flows

import "github.com/resetbot/resetbot/core/engine"

// completed is the final state of a flow that did what the person came
// for (a reset, an unlock, an enrollment): the goodbye with the reference,
// then the engine's optional satisfaction question (engine.Step.Rate),
// which never holds the goodbye back.
func completed(id string) engine.Step {
	st := final(id, true)
	st.Rate = true
	return st
}
