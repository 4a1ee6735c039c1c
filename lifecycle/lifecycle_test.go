package lifecycle

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
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

// The HTTP server's part answers requests until Stop, and Stop waits for the request in
// flight: its answer still arrives whole.
func TestServeHTTP(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	inside, release := make(chan struct{}), make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			close(inside)
			<-release
		}
		_, _ = io.WriteString(w, "ok")
	})
	parts := &Parts{Log: slog.New(slog.DiscardHandler)}
	failed := parts.ServeHTTP(ln, h, parts.Log)
	get := func(path string) (string, error) {
		res, err := http.Get("http://" + ln.Addr().String() + path)
		if err != nil {
			return "", err
		}
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		return string(b), err
	}
	if body, err := get("/"); err != nil || body != "ok" {
		t.Fatalf("GET /: %q, %v", body, err)
	}
	slow := make(chan string, 1)
	go func() { body, _ := get("/slow"); slow <- body }()
	<-inside
	stopped := make(chan error, 1)
	go func() { stopped <- parts.Stop(ShutdownTimeout) }()
	close(release)
	if body := <-slow; body != "ok" {
		t.Errorf("the request in flight at Stop got %q", body)
	}
	if err := <-stopped; err != nil {
		t.Errorf("Stop: %v", err)
	}
	if _, err := get("/"); err == nil {
		t.Error("the server still answers after Stop")
	}
	select {
	case err := <-failed:
		t.Errorf("a clean stop reported a failure: %v", err)
	default:
	}
}
