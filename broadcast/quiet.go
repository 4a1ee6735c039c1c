// Package broadcast sends one message to many citizens: program deadline reminders
// and announcements, through each channel's bulk lane, exactly once per citizen, in
// their language, never at night and never to someone who said stop.
package broadcast

import (
	"fmt"
	"strings"
	"time"

	"github.com/sangkien/sangkien/bot"
)

// QuietHours is the daily span, in Asia/Ho_Chi_Minh, when no bulk message goes out:
// what falls in it waits for its end. The zero value has none.
type QuietHours struct {
	// Start and End are offsets from midnight; Start after End spans midnight
	// (21:00-07:00).
	Start, End time.Duration
	set        bool
}

// DefaultQuietHours is BULK_QUIET_HOURS's default.
const DefaultQuietHours = "21:00-07:00"

// ParseQuietHours reads "HH:MM-HH:MM"; "" is none.
func ParseQuietHours(s string) (QuietHours, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return QuietHours{}, nil
	}
	from, to, ok := strings.Cut(s, "-")
	if !ok {
		return QuietHours{}, fmt.Errorf("quiet hours %q: want HH:MM-HH:MM, such as %s", s, DefaultQuietHours)
	}
	start, err := clock(from)
	if err != nil {
		return QuietHours{}, fmt.Errorf("quiet hours %q: %w", s, err)
	}
	end, err := clock(to)
	if err != nil {
		return QuietHours{}, fmt.Errorf("quiet hours %q: %w", s, err)
	}
	if start == end {
		return QuietHours{}, fmt.Errorf("quiet hours %q: the start and the end are the same", s)
	}
	return QuietHours{Start: start, End: end, set: true}, nil
}

func clock(s string) (time.Duration, error) {
	t, err := time.Parse("15:04", strings.TrimSpace(s))
	if err != nil {
		return 0, fmt.Errorf("%q is not a time of day (HH:MM)", s)
	}
	return time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute, nil
}

// String is the form ParseQuietHours reads.
func (q QuietHours) String() string {
	if !q.set {
		return ""
	}
	f := func(d time.Duration) string { return fmt.Sprintf("%02d:%02d", int(d.Hours()), int(d.Minutes())%60) }
	return f(q.Start) + "-" + f(q.End)
}

// Quiet reports whether t falls in the quiet hours.
func (q QuietHours) Quiet(t time.Time) bool {
	if !q.set {
		return false
	}
	t = t.In(bot.HoChiMinh())
	day := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, t.Location())
	at := t.Sub(day)
	if q.Start < q.End {
		return at >= q.Start && at < q.End
	}
	return at >= q.Start || at < q.End
}

// Next is the first moment from t when a bulk message may go: t itself outside the
// quiet hours, else their end.
func (q QuietHours) Next(t time.Time) time.Time {
	if !q.Quiet(t) {
		return t
	}
	local := t.In(bot.HoChiMinh())
	day := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, local.Location())
	end := day.Add(q.End)
	if !end.After(local) {
		end = day.AddDate(0, 0, 1).Add(q.End)
	}
	return end
}
