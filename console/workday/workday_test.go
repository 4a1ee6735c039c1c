package workday

import (
	"strings"
	"testing"
	"time"
)

var hcm = zone()

func at(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", s, hcm)
	if err != nil {
		panic(err)
	}
	return t
}

func TestShippedFileHoldsBothYears(t *testing.T) {
	c := Default()
	for _, d := range []string{"2026-01-01", "2026-02-17", "2026-04-27", "2026-09-02", "2027-01-01", "2027-02-08", "2027-04-16", "2027-09-02"} {
		if c.Worked(at(d + " 10:00")) {
			t.Errorf("%s is worked; want a holiday", d)
		}
	}
	if !c.Worked(at("2026-02-23 10:00")) {
		t.Error("Monday 23/2/2026, after Tết, is not worked")
	}
}

func TestAdd(t *testing.T) {
	c := Default()
	tests := []struct {
		name, from string
		d          time.Duration
		want       string
	}{
		{"within the day", "2026-03-03 09:00", 2 * time.Hour, "2026-03-03 11:00"},
		{"into the next day", "2026-03-03 16:00", 2 * time.Hour, "2026-03-04 09:00"},
		{"one working day from a morning", "2026-03-03 10:00", Day, "2026-03-04 10:00"},
		{"before opening", "2026-03-03 06:30", time.Hour, "2026-03-03 09:00"},
		{"Friday evening waits for Monday", "2026-03-06 20:00", Day, "2026-03-09 17:00"},
		{"across a weekend", "2026-03-06 15:00", 3 * time.Hour, "2026-03-09 09:00"},
		{"across Tết 2026", "2026-02-13 16:00", Day, "2026-02-23 16:00"},
		{"written at Tết", "2026-02-17 09:00", time.Hour, "2026-02-23 09:00"},
		{"three days over 30/4 and 1/5", "2026-04-29 12:00", 3 * Day, "2026-05-06 12:00"},
		{"Giỗ Tổ given back on Monday", "2026-04-24 17:00", time.Hour, "2026-04-28 09:00"},
	}
	for _, tt := range tests {
		if got := c.Add(at(tt.from), tt.d); !got.Equal(at(tt.want)) {
			t.Errorf("%s: Add(%s, %v) = %s; want %s", tt.name, tt.from, tt.d, got.In(hcm).Format("2006-01-02 15:04 Mon"), tt.want)
		}
	}
}

func TestBetween(t *testing.T) {
	c := Default()
	tests := []struct {
		name, a, b string
		want       time.Duration
	}{
		{"same hours", "2026-03-03 09:00", "2026-03-03 12:30", 3*time.Hour + 30*time.Minute},
		{"night does not count", "2026-03-03 16:00", "2026-03-04 09:00", 2 * time.Hour},
		{"weekend does not count", "2026-03-06 16:00", "2026-03-09 08:30", time.Hour + 30*time.Minute},
		{"Tết does not count", "2026-02-13 08:00", "2026-02-23 08:00", Day},
		{"backwards is zero", "2026-03-04 09:00", "2026-03-03 09:00", 0},
		{"a whole week", "2026-03-02 00:00", "2026-03-09 00:00", 5 * Day},
	}
	for _, tt := range tests {
		if got := c.Between(at(tt.a), at(tt.b)); got != tt.want {
			t.Errorf("%s: Between = %v; want %v", tt.name, got, tt.want)
		}
	}
}

// A Saturday the government swaps in as a working day counts; the weekday it paid for
// does not.
func TestMakeUpWorkingDay(t *testing.T) {
	c, err := Parse(strings.NewReader(`
# a swap: Friday 2/1/2026 off, worked on Saturday 10/1/2026
2026-01-02 off nghỉ bù
2026-01-10 work làm bù
`))
	if err != nil {
		t.Fatal(err)
	}
	if c.Worked(at("2026-01-02 10:00")) || !c.Worked(at("2026-01-10 10:00")) || c.Worked(at("2026-01-11 10:00")) {
		t.Fatal("the swap is not read")
	}
	if got, want := c.Add(at("2026-01-09 16:00"), 2*time.Hour), at("2026-01-10 09:00"); !got.Equal(want) {
		t.Errorf("Friday 16:00 + 2 h = %s; want Saturday 09:00 (worked)", got.In(hcm))
	}
	if got := c.Between(at("2026-01-01 08:00"), at("2026-01-05 08:00")); got != Day {
		t.Errorf("Thursday to Monday with Friday off = %v; want one day (Thursday: 1/1 is not listed in this file)", got)
	}
}

func TestClock(t *testing.T) {
	c := Default()
	since := at("2026-03-03 09:00")
	tests := []struct {
		now  string
		want State
	}{
		{"2026-03-03 15:00", OnTime},
		{"2026-03-04 08:30", Near}, // 8 h on the day, half an hour the next morning
		{"2026-03-04 09:00", Late},
		{"2026-03-03 16:00", Near},
	}
	for _, tt := range tests {
		got := c.Clock(since, at(tt.now), Day, DefaultTargets.Near)
		if got.State != tt.want {
			t.Errorf("at %s: %s (used %v); want %s", tt.now, got.State, got.Used, tt.want)
		}
		if !got.Due.Equal(at("2026-03-04 09:00")) {
			t.Errorf("due %s; want 2026-03-04 09:00", got.Due.In(hcm))
		}
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct{ in, want string }{
		{"2026-13-01 off x", "line 1"},
		{"\n2026-02-17", "line 2"},
		{"2026-02-17 maybe x", "want off or work"},
		{"2026-02-14 off Saturday", "off anyway"},
		{"2026-02-16 work Monday", "a working day anyway"},
		{"2026-02-16 off a\n2026-02-16 off b", "listed twice"},
	}
	for _, tt := range tests {
		_, err := Parse(strings.NewReader(tt.in))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Parse(%q) = %v; want an error with %q", tt.in, err, tt.want)
		}
	}
}

func TestTargetsValidate(t *testing.T) {
	if err := DefaultTargets.Validate(); err != nil {
		t.Fatal(err)
	}
	if (Targets{FirstAnswer: Day, Resolution: 0, Near: 0.5}).Validate() == nil {
		t.Error("a zero resolution target is accepted")
	}
	if (Targets{FirstAnswer: Day, Resolution: Day, Near: 1}).Validate() == nil {
		t.Error("near 1 is accepted")
	}
}
