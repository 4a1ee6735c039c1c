package bot_test

import (
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
