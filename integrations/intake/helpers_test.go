package intake_test

import (
	"github.com/sangkien/sangkien/bot/bottest"
	"log/slog"
	"strings"
	"testing"
)

// testLogger logs at debug level into a buffer and fails the test if a log line carries
// the personal data of the test submissions.
func testLogger(t *testing.T) *slog.Logger {
	t.Helper()
	buf := &bottest.LogBuffer{}
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
