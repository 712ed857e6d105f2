package report

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"
)

// WriteText prints the report for people.
func (r Report) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	until := "now"
	if !r.Until.IsZero() {
		until = r.Until.Format(time.RFC3339)
	}
	fmt.Fprintf(tw, "resetbot report\t%s to %s (from the %s)\n\n", r.Since.Format(time.RFC3339), until, r.Source)
	if a := r.Adoption; a != nil {
		bound := ""
		if a.Truncated {
			bound = ", count stopped at its bound"
		}
		fmt.Fprintf(tw, "Adoption (users enrolled / in scope)\t%.1f%% (%d of %d, counted %s%s)\n",
			a.Ratio*100, a.Enrolled, a.InScope, a.At.UTC().Format(time.RFC3339), bound)
	} else {
		fmt.Fprintf(tw, "Adoption\tnot counted yet (the service counts it from the directory)\n")
	}
	fmt.Fprintf(tw, "Conversations started\t%s\n", counts(r.Started))
	fmt.Fprintf(tw, "Completed, by flow and channel\t\n")
	for _, c := range r.Completions {
		fmt.Fprintf(tw, "  %s on %s\t%d\n", c.Flow, c.Channel, c.Count)
	}
	fmt.Fprintf(tw, "Resets and unlocks completed\t%d\n", r.Completed)
	fmt.Fprintf(tw, "Abandoned (cancelled, expired)\t%d\n", r.Abandoned)
	if r.TimeToReset.Count > 0 {
		fmt.Fprintf(tw, "Time to reset (%d resets)\tmedian %s, p90 %s\n", r.TimeToReset.Count,
			seconds(r.TimeToReset.MedianSeconds), seconds(r.TimeToReset.P90Seconds))
	} else {
		fmt.Fprintf(tw, "Time to reset\tno completed reset\n")
	}
	fmt.Fprintf(tw, "Escalations to the help desk\t%d %s\n", r.Escalations, brackets(counts(r.EscalationsByReason)))
	fmt.Fprintf(tw, "Deflection (no help desk needed)\t%.1f%%\n", r.Deflection*100)
	if sa := r.Satisfaction; sa.Up+sa.Down > 0 {
		fmt.Fprintf(tw, "Satisfaction (rated easy)\t%.1f%% (%d 👍, %d 👎)\n", sa.Share*100, sa.Up, sa.Down)
	} else {
		fmt.Fprintf(tw, "Satisfaction\tno rating\n")
	}
	fmt.Fprintf(tw, "Estimated saving\t%s (%d tickets × %s)\n", money(r.Saving, r.Currency), r.Completed, money(r.CostPerTicket, r.Currency))
	if r.UsersServed >= 0 {
		fmt.Fprintf(tw, "Users served\t%d\n", r.UsersServed)
	}
	fmt.Fprintf(tw, "Factor enrollments\t%d\n", r.Enrollments)
	if r.Skipped > 0 {
		fmt.Fprintf(tw, "Lines skipped (not audit events)\t%d\n", r.Skipped)
	}
	return tw.Flush()
}

func counts(m map[string]int) string {
	if len(m) == 0 {
		return "0"
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %d", k, m[k])
	}
	return strings.Join(parts, ", ")
}

func brackets(s string) string {
	if s == "0" {
		return ""
	}
	return "(" + s + ")"
}

func seconds(s float64) string {
	return (time.Duration(s * float64(time.Second))).Round(time.Second).String()
}

func money(v float64, currency string) string {
	if currency == "" {
		return fmt.Sprintf("%.2f", v)
	}
	return fmt.Sprintf("%.2f %s", v, currency)
}
