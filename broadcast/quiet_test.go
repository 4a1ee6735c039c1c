package broadcast_test

import (
	"testing"
	"time"

	"github.com/sangkien/sangkien/bot"
	"github.com/sangkien/sangkien/broadcast"
)

func TestQuietHours(t *testing.T) {
	q, err := broadcast.ParseQuietHours(broadcast.DefaultQuietHours)
	if err != nil || q.String() != "21:00-07:00" {
		t.Fatalf("ParseQuietHours = %v, %v", q, err)
	}
	at := func(day, h, m int) time.Time { return time.Date(2026, 12, day, h, m, 0, 0, bot.HoChiMinh()) }
	for _, tt := range []struct {
		t     time.Time
		quiet bool
		next  time.Time
	}{
		{at(1, 20, 59), false, at(1, 20, 59)},
		{at(1, 21, 0), true, at(2, 7, 0)},
		{at(1, 23, 30), true, at(2, 7, 0)},
		{at(2, 0, 0), true, at(2, 7, 0)},
		{at(2, 6, 59), true, at(2, 7, 0)},
		{at(2, 7, 0), false, at(2, 7, 0)},
		{at(2, 14, 0).UTC(), false, at(2, 14, 0)},                          // the zone of t does not matter
		{time.Date(2026, 12, 1, 15, 0, 0, 0, time.UTC), true, at(2, 7, 0)}, // 22:00 in Hanoi
	} {
		if got := q.Quiet(tt.t); got != tt.quiet {
			t.Errorf("Quiet(%v) = %v", tt.t, got)
		}
		if got := q.Next(tt.t); !got.Equal(tt.next) {
			t.Errorf("Next(%v) = %v, want %v", tt.t, got, tt.next)
		}
	}
	day, _ := broadcast.ParseQuietHours("12:00-13:30")
	if !day.Quiet(at(1, 12, 45)) || day.Quiet(at(1, 13, 30)) || !day.Next(at(1, 12, 0)).Equal(at(1, 13, 30)) {
		t.Error("quiet hours within a day")
	}
	var none broadcast.QuietHours
	if none.Quiet(at(1, 23, 0)) || none.String() != "" {
		t.Error("no quiet hours")
	}
	if q, err := broadcast.ParseQuietHours(""); err != nil || q.Quiet(at(1, 23, 0)) {
		t.Error(`"" is none`)
	}
	for _, bad := range []string{"21:00", "21-07", "25:00-07:00", "07:00-07:00", "9pm-7am"} {
		if _, err := broadcast.ParseQuietHours(bad); err == nil {
			t.Errorf("ParseQuietHours(%q) accepted", bad)
		}
	}
}
