package workday

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// The kinds of an exception to the weekly rule, as the holidays file writes them, and
// the kind of an edit that takes a listed day out again.
const (
	Off  = "off"
	Work = "work"
	// Normal is an edit only: the day follows the weekly rule again (a Tết day the
	// government moved, a make-up Saturday cancelled).
	Normal = "normal"
)

// NameMax is the longest name of a day, in characters.
const NameMax = 100

// Exception is one exception of a calendar: a weekday off or a weekend day worked.
type Exception struct {
	Date string `json:"date"` // "2026-02-17"
	Kind string `json:"kind"` // Off or Work
	Name string `json:"name"`
}

// Edit changes one day of a calendar, laid over the holidays file: admins add a day
// off or a day worked, or take a listed one out (Kind Normal).
type Edit struct {
	Date string `json:"date"`
	Kind string `json:"kind"` // Off, Work or Normal
	Name string `json:"name,omitempty"`
}

// ParseEdit reads an edit kept as "off <name>", "work <name>" or "normal" for date.
func ParseEdit(date, value string) (Edit, error) {
	kind, name, _ := strings.Cut(strings.TrimSpace(value), " ")
	e := Edit{Date: date, Kind: kind, Name: strings.TrimSpace(name)}
	return e, e.Validate()
}

// String is the edit as ParseEdit reads it (without its date).
func (e Edit) String() string {
	if e.Kind == Normal || e.Name == "" {
		return e.Kind
	}
	return e.Kind + " " + e.Name
}

// Validate checks the date, that an Off day is a weekday and a Work day a weekend
// day (as the holidays file must), and the name's length.
func (e Edit) Validate() error {
	d, err := time.ParseInLocation(time.DateOnly, e.Date, zone())
	if err != nil {
		return fmt.Errorf("%q is not a date (YYYY-MM-DD)", e.Date)
	}
	if e.Kind != Normal {
		if err := checkKind(d, e.Kind); err != nil {
			return err
		}
	}
	if !utf8.ValidString(e.Name) || utf8.RuneCountInString(e.Name) > NameMax || strings.ContainsAny(e.Name, "\r\n") {
		return fmt.Errorf("the name of %s: one line of at most %d characters", e.Date, NameMax)
	}
	return nil
}

// checkKind refuses an exception that is not one: a weekend day off, a weekday worked.
func checkKind(d time.Time, kind string) error {
	date := d.Format(time.DateOnly)
	weekend := d.Weekday() == time.Saturday || d.Weekday() == time.Sunday
	switch kind {
	case Off:
		if weekend {
			return fmt.Errorf("%s is a %s, off anyway: list the weekday given in its place", date, d.Weekday())
		}
	case Work:
		if !weekend {
			return fmt.Errorf("%s is a %s, a working day anyway", date, d.Weekday())
		}
	default:
		return fmt.Errorf("%q: want off or work", kind)
	}
	return nil
}

// With returns a copy of c with the edits laid over it; c is unchanged. An edit that
// does not validate is skipped and returned in bad, so that one wrong entry does not
// stop the clocks.
func (c *Calendar) With(edits []Edit) (out *Calendar, bad []error) {
	out = &Calendar{zone: c.zone, days: maps.Clone(c.days), names: maps.Clone(c.names)}
	if out.names == nil {
		out.names = map[string]string{}
	}
	for _, e := range edits {
		if err := e.Validate(); err != nil {
			bad = append(bad, err)
			continue
		}
		if e.Kind == Normal {
			delete(out.days, e.Date)
			delete(out.names, e.Date)
			continue
		}
		out.days[e.Date], out.names[e.Date] = e.Kind == Work, e.Name
	}
	return out, bad
}

// Days lists the calendar's exceptions in year, by date.
func (c *Calendar) Days(year int) []Exception {
	prefix := fmt.Sprintf("%04d-", year)
	var out []Exception
	for date, worked := range c.days {
		if !strings.HasPrefix(date, prefix) {
			continue
		}
		d := Exception{Date: date, Kind: Off, Name: c.names[date]}
		if worked {
			d.Kind = Work
		}
		out = append(out, d)
	}
	slices.SortFunc(out, func(a, b Exception) int { return strings.Compare(a.Date, b.Date) })
	return out
}

// Listed reports whether date is one of the calendar's exceptions.
func (c *Calendar) Listed(date string) bool {
	_, ok := c.days[date]
	return ok
}
