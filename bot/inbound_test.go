package bot_test

import (
	"context"
	"testing"
	"time"

	"github.com/sangkien/sangkien/bot"
)

// The engine stores the time of the citizen's last own event in the profile, by the
// event's clock; news from the city leaves it.
func TestEngineKeepsLastInbound(t *testing.T) {
	st := freshStore(t)
	now := time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)
	e, err := bot.NewEngine(bot.EngineConfig{Store: st, Conversation: tally{}, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	wrote := now.Add(-time.Minute)
	ev := text("in1", "xin chào")
	ev.At = wrote
	if _, err := e.Handle(ctx, ev); err != nil {
		t.Fatal(err)
	}
	now = now.Add(72 * time.Hour)
	status := bot.Event{ID: "st1", Conversation: conv, Kind: bot.EventStatus,
		Status: &bot.StatusChange{SubmissionID: "s", Status: bot.StatusAccepted, At: now}}
	if _, err := e.Handle(ctx, status); err != nil {
		t.Fatal(err)
	}
	s, err := st.Session(ctx, conv)
	if err != nil {
		t.Fatal(err)
	}
	if !s.Profile.LastInbound.Equal(wrote) {
		t.Errorf("LastInbound %v, want the citizen's message at %v", s.Profile.LastInbound, wrote)
	}
}
