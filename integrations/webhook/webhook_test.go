package webhook_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/sangkien/sangkien/integrations/webhook"
)

func TestReadBody(t *testing.T) {
	chunked := func(s string) io.Reader { return io.MultiReader(strings.NewReader(s)) } // no length known
	tests := []struct {
		name   string
		method string
		body   io.Reader
		status int // 0: read
	}{
		{"small", http.MethodPost, strings.NewReader(`{"ok":1}`), 0},
		{"exactly the limit", http.MethodPost, strings.NewReader(strings.Repeat("x", 16)), 0},
		{"declared too large", http.MethodPost, strings.NewReader(strings.Repeat("x", 17)), http.StatusRequestEntityTooLarge},
		{"streamed too large", http.MethodPost, chunked(strings.Repeat("x", 64)), http.StatusRequestEntityTooLarge},
		{"unreadable", http.MethodPost, iotest.ErrReader(io.ErrUnexpectedEOF), http.StatusBadRequest},
		{"not a post", http.MethodGet, nil, http.StatusMethodNotAllowed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(tt.method, "/webhooks/x", tt.body)
			if _, ok := tt.body.(*strings.Reader); !ok {
				req.ContentLength = -1
			}
			rec := httptest.NewRecorder()
			var body []byte
			ok := webhook.IsPost(rec, req)
			if ok {
				body, ok = webhook.ReadBody(rec, req, 16)
			}
			if ok != (tt.status == 0) {
				t.Fatalf("ok = %v, status %d", ok, rec.Code)
			}
			if !ok && rec.Code != tt.status {
				t.Errorf("status = %d, want %d", rec.Code, tt.status)
			}
			if ok && len(body) == 0 {
				t.Error("empty body read")
			}
			if tt.status == http.StatusMethodNotAllowed && rec.Header().Get("Allow") != http.MethodPost {
				t.Error("405 without Allow: POST")
			}
		})
	}
}
