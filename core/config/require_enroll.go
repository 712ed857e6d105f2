package config

import "sort"

// enrollRequire warns where factors.require.enroll asks for fewer factors than
// a reset on the same channel: the flows raise it to the reset's count
// (enrolling a factor must need what a reset needs, or an attacker would
// enrol their own app and reset with it), so a lower value is never in force
// and the operator should see the effective one.
func (v *validator) enrollRequire(r RequireConfig) {
	keys := map[string]bool{"default": true}
	for k := range r.Reset {
		keys[k] = true
	}
	for k := range r.Enroll {
		keys[k] = true
	}
	names := make([]string, 0, len(keys))
	for k := range keys {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, ch := range names {
		if e, rs := r.For("enroll", ch), r.For("reset", ch); e < rs {
			if _, set := r.Enroll[ch]; set {
				v.warnf("factors.require.enroll."+ch, "is %d but a reset needs %d: enrolling needs what a reset needs, so %d is in force", e, rs, rs)
			}
		}
	}
}

// effectiveEnroll returns the enroll requirement in force: per channel, at
// least the reset's count (see enrollRequire).
func effectiveEnroll(r RequireConfig) map[string]int {
	out := map[string]int{}
	for _, m := range []map[string]int{r.Reset, r.Enroll} {
		for ch := range m {
			out[ch] = max(r.For("enroll", ch), r.For("reset", ch))
		}
	}
	return out
}
