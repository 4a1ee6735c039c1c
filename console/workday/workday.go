// Package workday measures time as the city's offices count it: Monday to Friday,
// 08:00 to 17:00 in Asia/Ho_Chi_Minh, minus Vietnam's public holidays, plus the
// Saturdays the government swaps in as working days. The console's response clocks
// ("first answer within 1 working day") run on it.
package workday

import (
	"bufio"
	_ "embed"
	"fmt"
	"io"
	"strings"
	"time"
)

// Office hours: one working day is the span from Start to End.
const (
	Start = 8 * time.Hour
	End   = 17 * time.Hour
	// Day is the length of one working day.
	Day = End - Start
)

//go:embed holidays.txt
var defaultHolidays string

// Calendar knows which days are worked.
type Calendar struct {
	zone *time.Location
	// days holds the exceptions to the weekly rule, by date ("2026-02-17"): false
	// for a weekday off, true for a weekend day worked.
	days map[string]bool
	// names are the exceptions' names ("Tết Nguyên Đán (mùng 1)"), by date.
	names map[string]string
}

// Default is the calendar of the holidays file shipped with the gateway (2026, 2027).
func Default() *Calendar {
	c, err := Parse(strings.NewReader(defaultHolidays))
	if err != nil {
		panic("workday: the shipped holidays file: " + err.Error())
	}
	return c
}

// Parse reads a holidays file: one "YYYY-MM-DD off|work <name>" a line; blank lines and
// lines starting with # are skipped. An error names the line.
func Parse(r io.Reader) (*Calendar, error) {
	c := &Calendar{zone: zone(), days: map[string]bool{}, names: map[string]string{}}
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(line)
		if len(f) < 2 {
			return nil, fmt.Errorf("holidays line %d: want \"YYYY-MM-DD off|work name\", got %q", n, line)
		}
		d, err := time.ParseInLocation(time.DateOnly, f[0], c.zone)
		if err != nil {
			return nil, fmt.Errorf("holidays line %d: %q is not a date (YYYY-MM-DD)", n, f[0])
		}
		if _, dup := c.days[f[0]]; dup {
			return nil, fmt.Errorf("holidays line %d: %s is listed twice", n, f[0])
		}
		if err := checkKind(d, f[1]); err != nil {
			return nil, fmt.Errorf("holidays line %d: %w", n, err)
		}
		c.days[f[0]] = f[1] == Work
		c.names[f[0]] = strings.Join(f[2:], " ")
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("holidays: %w", err)
	}
	return c, nil
}

// zone is Asia/Ho_Chi_Minh, or the same fixed +07:00 (it has kept no daylight saving
// since 1975) where the zone database is missing.
func zone() *time.Location {
	if z, err := time.LoadLocation("Asia/Ho_Chi_Minh"); err == nil {
		return z
	}
	return time.FixedZone("ICT", 7*60*60)
}

// Worked reports whether the day of t (in the city) is a working day.
func (c *Calendar) Worked(t time.Time) bool {
	t = t.In(c.zone)
	if w, ok := c.days[t.Format(time.DateOnly)]; ok {
		return w
	}
	return t.Weekday() != time.Saturday && t.Weekday() != time.Sunday
}

// Between is the working time from a to b (zero when b is not after a).
func (c *Calendar) Between(a, b time.Time) time.Duration {
	if !b.After(a) {
		return 0
	}
	var total time.Duration
	for day := c.midnight(a); day.Before(b); day = day.AddDate(0, 0, 1) {
		if !c.Worked(day) {
			continue
		}
		from, to := day.Add(Start), day.Add(End)
		from, to = later(from, a), earlier(to, b)
		if to.After(from) {
			total += to.Sub(from)
		}
	}
	return total
}

// Add is the instant when d of working time has passed since t: a message at 20:00 on a
// Friday before a 1-working-day target falls due at 17:00 on Monday (when Monday is
// worked).
func (c *Calendar) Add(t time.Time, d time.Duration) time.Time {
	t = t.In(c.zone)
	for day := c.midnight(t); ; day = day.AddDate(0, 0, 1) {
		if !c.Worked(day) {
			continue
		}
		from, to := later(day.Add(Start), t), day.Add(End)
		if !to.After(from) {
			continue
		}
		left := to.Sub(from)
		if d <= left {
			return from.Add(d)
		}
		d -= left
	}
}

// midnight is the start of t's day in the city. Days are stepped with AddDate from it,
// which stays right across the zone's (historic) offset changes.
func (c *Calendar) midnight(t time.Time) time.Time {
	t = t.In(c.zone)
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, c.zone)
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func earlier(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
