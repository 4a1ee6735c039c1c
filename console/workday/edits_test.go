package workday

import (
	"slices"
	"testing"
)

// Edits laid over the shipped file: a Tết day taken out counts as worked, an added
// make-up Saturday counts, an added day off does not, and the file's calendar is left
// as it was.
func TestWithEdits(t *testing.T) {
	base := Default()
	edits := []Edit{
		{Date: "2026-02-20", Kind: Normal},
		{Date: "2026-03-07", Kind: Work, Name: "Làm bù"},
		{Date: "2026-03-09", Kind: Off, Name: "Nghỉ bù"},
	}
	c, bad := base.With(edits)
	if len(bad) != 0 {
		t.Fatalf("bad edits: %v", bad)
	}
	for _, tc := range []struct {
		day        string
		base, with bool
	}{
		{"2026-02-20", false, true},
		{"2026-02-19", false, false},
		{"2026-03-07", false, true},
		{"2026-03-09", true, false},
		{"2026-03-10", true, true},
	} {
		if got := base.Worked(at(tc.day + " 10:00")); got != tc.base {
			t.Errorf("the file's %s worked = %v, want %v", tc.day, got, tc.base)
		}
		if got := c.Worked(at(tc.day + " 10:00")); got != tc.with {
			t.Errorf("edited %s worked = %v, want %v", tc.day, got, tc.with)
		}
	}
	// A citizen asks at 09:00 on Friday 20/2 with a first answer due in one working
	// day: the file (20/2 is Tết) starts the clock on Monday 23/2 and ends it that
	// evening; with 20/2 worked, it runs from Friday into Monday morning.
	since := at("2026-02-20 09:00")
	if got, want := base.Add(since, Day), at("2026-02-23 17:00"); !got.Equal(want) {
		t.Errorf("the file's due %v, want %v", got, want)
	}
	if got, want := c.Add(since, Day), at("2026-02-23 09:00"); !got.Equal(want) {
		t.Errorf("edited due %v, want %v", got, want)
	}
}

func TestWithSkipsBadEdits(t *testing.T) {
	c, bad := Default().With([]Edit{
		{Date: "2026-03-07", Kind: Off, Name: "a Saturday off"},
		{Date: "2026-03-09", Kind: Work, Name: "a Monday worked"},
		{Date: "2026-13-01", Kind: Off},
		{Date: "2026-03-10", Kind: "holiday"},
		{Date: "2026-03-11", Kind: Off, Name: "Nghỉ"},
	})
	if len(bad) != 4 {
		t.Errorf("bad edits: %v, want 4", bad)
	}
	if c.Worked(at("2026-03-11 10:00")) {
		t.Error("the one good edit was not applied")
	}
}

func TestDays(t *testing.T) {
	c, _ := Default().With([]Edit{{Date: "2026-02-16", Kind: Normal}, {Date: "2026-03-07", Kind: Work, Name: "Làm bù"}})
	days := c.Days(2026)
	dates := make([]string, 0, len(days))
	for _, d := range days {
		dates = append(dates, d.Date)
	}
	if !slices.IsSorted(dates) {
		t.Errorf("days not by date: %v", dates)
	}
	if slices.Contains(dates, "2026-02-16") {
		t.Error("a day taken out is still listed")
	}
	i := slices.Index(dates, "2026-03-07")
	if i < 0 || days[i] != (Exception{Date: "2026-03-07", Kind: Work, Name: "Làm bù"}) {
		t.Errorf("the make-up Saturday: %v", days)
	}
	j := slices.Index(dates, "2026-02-17")
	if j < 0 || days[j] != (Exception{Date: "2026-02-17", Kind: Off, Name: "Tết Nguyên Đán (mùng 1)"}) {
		t.Errorf("Tết, mùng 1: %v", days)
	}
	for _, d := range c.Days(2027) {
		if d.Date[:4] != "2027" {
			t.Errorf("2027 lists %s", d.Date)
		}
	}
}

func TestParseEdit(t *testing.T) {
	for _, tc := range []struct {
		value string
		want  Edit
		ok    bool
	}{
		{"off Nghỉ bù Quốc khánh", Edit{Date: "2026-09-03", Kind: Off, Name: "Nghỉ bù Quốc khánh"}, true},
		{"normal", Edit{Date: "2026-09-03", Kind: Normal}, true},
		{"work Làm bù", Edit{Date: "2026-09-03", Kind: Work, Name: "Làm bù"}, false},
		{"", Edit{Date: "2026-09-03"}, false},
	} {
		got, err := ParseEdit("2026-09-03", tc.value)
		if got != tc.want || (err == nil) != tc.ok {
			t.Errorf("ParseEdit(%q) = %+v, %v", tc.value, got, err)
		}
		if tc.ok && got.String() != tc.value {
			t.Errorf("%+v.String() = %q, want %q", got, got.String(), tc.value)
		}
	}
}
