package webchat

import (
	"io"
	"strings"
	"testing"
)

func TestChatPageInBothLanguages(t *testing.T) {
	h := newHarness(t, nil)
	for _, tc := range []struct{ path, lang, title string }{
		{"/chat", "vi", "Sáng kiến Hà Nội"},
		{"/chat?lang=en", "en", "Hanoi Initiatives"},
	} {
		res := h.do("GET", tc.path, "")
		b, _ := io.ReadAll(res.Body)
		page := string(b)
		if res.StatusCode != 200 || !strings.Contains(page, `<html lang="`+tc.lang+`">`) || !strings.Contains(page, "<title>"+tc.title+"</title>") ||
			!strings.Contains(page, `<script src="/webchat/widget.js" data-mode="page" data-lang="`+tc.lang+`">`) {
			t.Fatalf("%s: status %d\n%s", tc.path, res.StatusCode, page)
		}
		if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || !strings.Contains(csp, "connect-src 'self'") {
			t.Fatalf("%s: CSP %q", tc.path, csp)
		}
	}
}

func TestWidgetIsSmallAndSelfContained(t *testing.T) {
	h := newHarness(t, nil)
	res := h.do("GET", "/webchat/widget.js", "")
	b, _ := io.ReadAll(res.Body)
	js := string(b)
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/javascript") {
		t.Fatalf("status %d, type %q", res.StatusCode, res.Header.Get("Content-Type"))
	}
	if len(b) > MaxWidget {
		t.Fatalf("widget.js is %d bytes, over %d", len(b), MaxWidget)
	}
	for _, want := range []string{"Nhập tin nhắn…", "Type a message…", "/webchat/api/events", "EventSource"} {
		if !strings.Contains(js, want) {
			t.Errorf("widget.js lacks %q", want)
		}
	}
	// No third-party request: the only URLs are the gateway's own, built from base.
	for _, bad := range []string{"http://", "https://", "//cdn", "import("} {
		if strings.Contains(js, bad) {
			t.Errorf("widget.js names %q: it must load nothing from elsewhere", bad)
		}
	}
}
