package lockout

import "time"

// Quiet is the time of day no notice is sent (a lockout at 23:00 is not
// worth a buzz; the user can still ask the bot). Start and End are offsets
// from midnight; Start after End wraps midnight (22:00-07:00). Equal
// values mean no quiet hours.
type Quiet struct {
	Start, End time.Duration
	// Zone is the default time zone: used when the platform does not know
	// the user's (Slack does, Teams does not).
	Zone *time.Location
}

// zone returns the user's zone when valid, else the default.
func (q Quiet) zone(tz string) *time.Location {
	if tz != "" {
		if l, err := time.LoadLocation(tz); err == nil {
			return l
		}
	}
	if q.Zone != nil {
		return q.Zone
	}
	return time.UTC
}

// In reports whether t falls in quiet hours in the zone tz.
func (q Quiet) In(t time.Time, tz string) bool {
	if q.Start == q.End {
		return false
	}
	lt := t.In(q.zone(tz))
	d := time.Duration(lt.Hour())*time.Hour + time.Duration(lt.Minute())*time.Minute
	if q.Start < q.End {
		return d >= q.Start && d < q.End
	}
	return d >= q.Start || d < q.End
}
