package programs

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/sangkien/sangkien/bot"
)

// Opening is the reminder offset that names a program's opening (bot.Reminder's
// AtOpening); every other offset is how long before the deadline.
const Opening = "opening"

// ParseReminders reads a program's reminder offsets as the programs file and the
// console write them: "opening", or a Go duration with a day unit besides ("7d",
// "1d12h", "12h", "30m"). An empty list is no reminders (not nil, which would be the
// default ones). Offsets must be positive and each come once.
func ParseReminders(offsets []string) ([]bot.Reminder, error) {
	out := make([]bot.Reminder, 0, len(offsets))
	seen := map[bot.Reminder]string{}
	for _, s := range offsets {
		r, err := ParseReminder(s)
		if err != nil {
			return nil, err
		}
		if first, dup := seen[r]; dup {
			if first == s {
				return nil, fmt.Errorf("reminder %q: listed twice", s)
			}
			return nil, fmt.Errorf("reminder %q: listed twice (also as %q)", s, first)
		}
		seen[r] = s
		out = append(out, r)
	}
	return out, nil
}

// ParseReminder reads one reminder offset: see ParseReminders.
func ParseReminder(s string) (bot.Reminder, error) {
	s = strings.TrimSpace(s)
	if s == Opening {
		return bot.Reminder{AtOpening: true}, nil
	}
	d, err := parseOffset(s)
	if err != nil {
		return bot.Reminder{}, fmt.Errorf("reminder %q: not %q or a time before the deadline such as 7d, 12h or 30m", s, Opening)
	}
	if d <= 0 {
		return bot.Reminder{}, fmt.Errorf("reminder %q: the time before the deadline is not positive", s)
	}
	return bot.Reminder{Before: d}, nil
}

// parseOffset is time.ParseDuration with days ("7d", "1d12h", "-2d") in front.
func parseOffset(s string) (time.Duration, error) {
	neg := strings.HasPrefix(s, "-")
	rest := strings.TrimPrefix(s, "-")
	var d time.Duration
	days := false
	if i := strings.IndexByte(rest, 'd'); i > 0 {
		n, err := strconv.Atoi(rest[:i])
		if err != nil || n < 0 || n > 10000 {
			return 0, fmt.Errorf("bad days in %q", s)
		}
		d, rest, days = time.Duration(n)*24*time.Hour, rest[i+1:], true
	}
	if rest != "" || !days {
		r, err := time.ParseDuration(rest)
		if err != nil || r < 0 {
			return 0, fmt.Errorf("bad duration %q", s)
		}
		d += r
	}
	if neg {
		d = -d
	}
	return d, nil
}

// FormatReminders writes reminders as ParseReminders reads them.
func FormatReminders(rs []bot.Reminder) []string {
	out := make([]string, 0, len(rs))
	for _, r := range rs {
		out = append(out, FormatReminder(r))
	}
	return out
}

// FormatReminder writes one reminder offset: "opening", "7d", "1d12h", "30m".
func FormatReminder(r bot.Reminder) string {
	if r.AtOpening {
		return Opening
	}
	d := r.Before
	var b strings.Builder
	if d < 0 {
		b.WriteByte('-')
		d = -d
	}
	for _, u := range []struct {
		unit time.Duration
		name string
	}{{24 * time.Hour, "d"}, {time.Hour, "h"}, {time.Minute, "m"}} {
		if n := d / u.unit; n > 0 {
			b.WriteString(strconv.FormatInt(int64(n), 10) + u.name)
			d -= n * u.unit
		}
	}
	if d > 0 || b.Len() == 0 {
		b.WriteString(d.String())
	}
	return b.String()
}
