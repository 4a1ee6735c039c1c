package webhook_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/sangkien/sangkien/integrations/webhook"
	"github.com/sangkien/sangkien/logging"
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
			req, ok := webhook.Accept(rec, req)
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

// TestAcceptGivesTheRequestItsID: a proxy's sane X-Request-Id is kept, anything else
// replaced by a new id; the id is in the answer's header and the request's context.
func TestAcceptGivesTheRequestItsID(t *testing.T) {
	uuid := "0b7f7e4e-3c8a-4f4e-9f55-2d1e1b6c9a10"
	tests := []struct {
		name   string
		header string
		keep   bool
	}{
		{"a proxy's uuid", uuid, true},
		{"nginx's request id", "8f2d0c4e9a1b7c3d5e6f708192a3b4c5", true},
		{"none", "", false},
		{"too long", strings.Repeat("a", 65), false},
		{"a forged field", `x" level=ERROR msg="forged`, false},
		{"a line break", "abc\nlevel=ERROR", false},
		{"a citizen's text", "Nguyễn Thị Lan", false},
	}
	seen := map[string]bool{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodPost, "/webhooks/x", strings.NewReader("{}"))
			if tt.header != "" {
				req.Header.Set(webhook.RequestIDHeader, tt.header)
			}
			rec := httptest.NewRecorder()
			got, ok := webhook.Accept(rec, req)
			if !ok {
				t.Fatalf("a POST refused: %d", rec.Code)
			}
			id := logging.RequestID(got.Context())
			if answered := rec.Header().Get(webhook.RequestIDHeader); answered != id {
				t.Errorf("answered X-Request-Id %q, the context carries %q", answered, id)
			}
			if tt.keep && id != tt.header {
				t.Errorf("id = %q, want the proxy's %q", id, tt.header)
			}
			if !tt.keep && (id == tt.header || len(id) != 16 || strings.Trim(id, "0123456789abcdef") != "") {
				t.Errorf("id = %q, want 16 new hex digits", id)
			}
			if seen[id] {
				t.Errorf("id %q given twice", id)
			}
			seen[id] = true
		})
	}
}
