package lifecycle

import (
	"context"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// Parts stop in the reverse of the order they started, loops see their context end,
// and a part that does not stop in time holds the others up for the timeout only.
func TestComponentsStopInReverseWithinTheTimeout(t *testing.T) {
	var (
		mu      sync.Mutex
		stopped []string
	)
	record := func(name string) {
		mu.Lock()
		defer mu.Unlock()
		stopped = append(stopped, name)
	}
	parts := &Parts{Log: slog.New(slog.DiscardHandler)}
	parts.Add("redis", func(context.Context) error { record("redis"); return nil })
	parts.Run("worker", func(ctx context.Context) { <-ctx.Done(); record("worker") })
	parts.Run("stuck", func(ctx context.Context) { select {} })
	parts.Add("http", func(context.Context) error { record("http"); return nil })

	start := time.Now()
	err := parts.Stop(200 * time.Millisecond)
	if took := time.Since(start); took > time.Second {
		t.Errorf("stop took %v, want about the timeout", took)
	}
	if err == nil || !strings.Contains(err.Error(), "stuck did not stop in time") {
		t.Errorf("stop = %v, want the stuck part named", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if want := []string{"http", "worker", "redis"}; !slices.Equal(stopped, want) {
		t.Errorf("stopped %v, want %v", stopped, want)
	}
}
