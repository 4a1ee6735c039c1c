package metrics

import (
	"net/http"
	"strconv"

	"github.com/sangkien/sangkien/bot"
)

// Webhook counts the requests h answers for channel ch, by status code.
func (m *Metrics) Webhook(ch bot.Channel, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &statusWriter{ResponseWriter: w}
		h.ServeHTTP(sw, r)
		if sw.code == 0 {
			sw.code = http.StatusOK
		}
		m.webhookRequests.WithLabelValues(string(ch), strconv.Itoa(sw.code)).Inc()
	})
}

// Unauthenticated counts a request to endpoint that failed authentication, answered 429
// when limited and 401 otherwise (webhook.GuardConfig.Count).
func (m *Metrics) Unauthenticated(endpoint string, limited bool) {
	code := "401"
	if limited {
		code = "429"
	}
	m.unauthenticated.WithLabelValues(endpoint, code).Inc()
}

// statusWriter remembers the status code written.
type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the writer underneath.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
