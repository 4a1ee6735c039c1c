package bot_test

import (
	"strings"
	"testing"
	"time"

	"github.com/sangkien/sangkien/bot"
)

// A submission's history keeps every status in order, the last StatusHistoryMax, and
// the city's id once given (a later status without one keeps it).
func TestSubmissionSummaryRecord(t *testing.T) {
	var s bot.SubmissionSummary
	at := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	s.Record(bot.StatusSubmitted, "", at)
	s.Record(bot.StatusReceived, "TP-1", at.Add(time.Minute))
	for i := range bot.StatusHistoryMax {
		s.Record(bot.StatusUnderReview, "", at.Add(time.Duration(i+2)*time.Minute))
	}
	if len(s.History) != bot.StatusHistoryMax || s.History[0].Status != bot.StatusUnderReview {
		t.Errorf("history: %d steps, first %+v", len(s.History), s.History[0])
	}
	last := s.History[len(s.History)-1]
	if s.Status != bot.StatusUnderReview || !s.Changed.Equal(last.At) || s.IntakeID != "TP-1" {
		t.Errorf("summary: %+v", s)
	}
}

func TestValidEmail(t *testing.T) {
	for s, want := range map[string]bool{
		"lan@hanoi.gov.vn": true, "tran.van-minh+console@ubnd.hanoi.gov.vn": true, "a1@x.vn": true,
		"l%61n@hanoi.gov.vn": false, "lan?x@hanoi.gov.vn": false, "lan/x@hanoi.gov.vn": false, "lan#@hanoi.gov.vn": false,
		"lan@hanoi": false, "@hanoi.gov.vn": false, "lan@-hanoi.vn": false, "lan@hanoi..vn": false, "Lan@hanoi.gov.vn": false,
		"lan@@hanoi.gov.vn": false, "lan@hanoi.gov.vn\n": false, strings.Repeat("a", 65) + "@x.vn": false,
	} {
		if got := bot.ValidEmail(s); got != want {
			t.Errorf("ValidEmail(%q) = %v, want %v", s, got, want)
		}
	}
}

// Only the citizen's own events move LastInbound, never backwards and never ahead of
// the gateway's clock.
func TestProfileNoteInbound(t *testing.T) {
	now := time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)
	var p bot.Profile
	p.NoteInbound(bot.EventText, now.Add(-time.Hour), now)
	if !p.LastInbound.Equal(now.Add(-time.Hour)) {
		t.Fatalf("after a text: %v", p.LastInbound)
	}
	for _, k := range []bot.EventKind{bot.EventStatus, bot.EventStaffMessage, bot.EventStaffReply, bot.EventUnfollow} {
		p.NoteInbound(k, now, now)
		if !p.LastInbound.Equal(now.Add(-time.Hour)) {
			t.Errorf("a %s event moved LastInbound to %v", k, p.LastInbound)
		}
	}
	p.NoteInbound(bot.EventButton, now.Add(-2*time.Hour), now)
	if !p.LastInbound.Equal(now.Add(-time.Hour)) {
		t.Errorf("an older button press arriving late moved LastInbound back to %v", p.LastInbound)
	}
	p.NoteInbound(bot.EventFollow, now.Add(time.Hour), now)
	if !p.LastInbound.Equal(now) {
		t.Errorf("a follow stamped ahead of now: LastInbound %v, want %v", p.LastInbound, now)
	}
}
