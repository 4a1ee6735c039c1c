package bot_test

import (
	"testing"
	"time"

	"github.com/sangkien/sangkien/bot"
)

func TestBackoff(t *testing.T) {
	b := bot.Backoff{Base: time.Second, Max: 5 * time.Minute}
	tests := []struct {
		n        int
		min, max time.Duration
	}{
		{1, 500 * time.Millisecond, time.Second},
		{2, time.Second, 2 * time.Second},
		{5, 8 * time.Second, 16 * time.Second},
		{30, 150 * time.Second, 5 * time.Minute},
		{10000, 150 * time.Second, 5 * time.Minute},
	}
	for _, tt := range tests {
		for range 20 {
			if d := b.Wait(tt.n); d < tt.min || d > tt.max {
				t.Errorf("wait after %d failures = %s, want within [%s, %s]", tt.n, d, tt.min, tt.max)
			}
		}
	}
	steady := bot.Backoff{Base: 500 * time.Millisecond, Max: 30 * time.Second, Steady: true}
	for n, want := range map[int]time.Duration{1: 500 * time.Millisecond, 2: time.Second, 3: 2 * time.Second, 7: 30 * time.Second, 100: 30 * time.Second} {
		if got := steady.Wait(n); got != want {
			t.Errorf("steady wait after %d failures = %s, want %s", n, got, want)
		}
	}
}
