package intake_test

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
	"testing"
)

// testLogger logs at debug level into a buffer and fails the test if a log line carries
// the personal data of the test submissions.
func testLogger(t *testing.T) *slog.Logger {
	t.Helper()
	buf := &syncBuffer{}
	t.Cleanup(func() {
		out := buf.String()
		for _, secret := range []string{"Nguyễn", "Trần", "+849", "@example", "Kim Mã", testSecret, "o311-key"} {
			if strings.Contains(out, secret) {
				t.Errorf("log carries %q:\n%s", secret, out)
			}
		}
		for line := range strings.Lines(out) {
			if !strings.Contains(line, "component=intake.") {
				t.Errorf("log line without the intake component: %s", line)
			}
		}
	})
	return slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
