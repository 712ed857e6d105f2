package identity

import (
	"errors"
	"fmt"
	"slices"
)

// Registry is the explicit list of verification methods the flows offer, in
// menu order (strongest first). It is built once at startup — one line per
// method in the composition root, no init() registration — and is read-only
// afterwards, so it is safe for concurrent use.
type Registry struct {
	methods []Method
}

// NewRegistry checks and orders methods: each factor once, every method with
// a group and a strength above StrengthNone (security questions are never a
// factor). Methods are sorted by strength, strongest first; ties keep the
// given order.
func NewRegistry(methods ...Method) (*Registry, error) {
	seen := map[Factor]bool{}
	var errs []error
	for _, m := range methods {
		if m == nil {
			errs = append(errs, fmt.Errorf("%w: nil method", ErrInvalidConfig))
			continue
		}
		f := m.Factor()
		switch {
		case f == "":
			errs = append(errs, fmt.Errorf("%w: method without a factor name", ErrInvalidConfig))
		case f == FactorQuestions:
			errs = append(errs, fmt.Errorf("%w: security questions are never a factor", ErrInvalidConfig))
		case seen[f]:
			errs = append(errs, fmt.Errorf("%w: factor %q registered twice", ErrInvalidConfig, f))
		case m.Group() == "":
			errs = append(errs, fmt.Errorf("%w: factor %q has no independence group", ErrInvalidConfig, f))
		case m.Strength() <= StrengthNone:
			errs = append(errs, fmt.Errorf("%w: factor %q has no strength", ErrInvalidConfig, f))
		}
		seen[f] = true
	}
	if len(methods) == 0 {
		errs = append(errs, fmt.Errorf("%w: no verification method", ErrInvalidConfig))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	sorted := slices.Clone(methods)
	slices.SortStableFunc(sorted, func(a, b Method) int { return int(b.Strength() - a.Strength()) })
	return &Registry{methods: sorted}, nil
}

// Methods returns the methods, strongest first.
func (r *Registry) Methods() []Method { return slices.Clone(r.methods) }

// Get returns the method for factor f.
func (r *Registry) Get(f Factor) (Method, bool) {
	for _, m := range r.methods {
		if m.Factor() == f {
			return m, true
		}
	}
	return nil, false
}

// Enroller returns the strongest method a person can enroll in a
// conversation, if any.
func (r *Registry) Enroller() (Method, Enroller, bool) {
	for _, m := range r.methods {
		if e, ok := m.(Enroller); ok {
			return m, e, true
		}
	}
	return nil, nil, false
}
