package bot_test

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/sangkien/sangkien/bot"
)

func TestAlarmSaysItOnceThenCounts(t *testing.T) {
	var buf bytes.Buffer
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	a := bot.NewAlarm(slog.New(slog.NewTextHandler(&buf, nil)), slog.LevelWarn, func() time.Time { return now })
	a.Clear("fine again") // never raised: says nothing
	for i := range 5 {
		if logged := a.Raise("redis down", "try", i); logged != (i == 0) {
			t.Fatalf("raise %d logged = %v", i, logged)
		}
	}
	now = now.Add(90 * time.Second)
	a.Clear("redis back")
	a.Clear("redis back")
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d lines, want 2:\n%s", len(lines), buf.String())
	}
	if !strings.Contains(lines[0], "level=WARN") || !strings.Contains(lines[0], "redis down") || !strings.Contains(lines[0], "try=0") {
		t.Errorf("first line %q", lines[0])
	}
	if !strings.Contains(lines[1], "level=INFO") || !strings.Contains(lines[1], "occurrences=5") || !strings.Contains(lines[1], "lasted=1m30s") {
		t.Errorf("second line %q", lines[1])
	}
}
