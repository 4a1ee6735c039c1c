package media_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/sangkien/sangkien/bot"
	"github.com/sangkien/sangkien/integrations/media"
)

// FuzzLink holds the media link's promise: a link the handler serves was signed by us.
// A link made for any file is served (its file fetched, once, by its reference); the
// same link with one byte changed anywhere after the host is never served unless it
// still reads, as the handler reads it, as the very id, exp and sig we signed.
func FuzzLink(f *testing.F) {
	f.Add("telegram", "AgACAgIAAxkBAAIBZ2dQ", "photo", "image/jpeg", "", uint16(10), byte('A'))
	f.Add("zalo", "https://f21-zpc.zdn.vn/8312/ke-hoach.pdf", "document", "application/pdf", "kế hoạch.pdf", uint16(200), byte('0'))
	f.Add("terminal", "local/1", "", "", "a&b=c?.png", uint16(0), byte('%'))
	f.Add("", "x", "photo", "", "", uint16(5), byte('/'))
	f.Add("telegram", "x", "", "", "", uint16(63), byte('B')) // found by FuzzLink: sig with one digit in upper case was served
	now := time.Date(2026, 11, 29, 9, 0, 0, 0, time.UTC)
	s, err := media.NewSigner([]byte("0123456789abcdef0123456789abcdef"), "https://gw.example.vn", 7*24*time.Hour,
		func() time.Time { return now })
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, ch, ref, kind, mime, name string, at uint16, b byte) {
		fetcher := &fuzzFetcher{}
		mux := http.NewServeMux()
		mux.Handle("GET /media/{id}", media.NewHandler(s, map[bot.Channel]media.Fetcher{bot.Channel(ch): fetcher}, nil, nil))
		link, err := s.Link(bot.Channel(ch), bot.Attachment{Kind: bot.AttachmentKind(kind), Ref: ref, MIME: mime, Name: name})
		if ch == "" || ref == "" {
			if err == nil {
				t.Fatalf("a link without channel or reference: %s", link)
			}
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		if !allValid(ch, ref, kind, mime, name) {
			return // a channel's references come out of JSON: never other text, which the link could not carry
		}
		signed, ok := linkTriple(link)
		if !ok {
			t.Fatalf("link %s does not parse", link)
		}
		if code := serveLink(mux, link); code != http.StatusNotFound || len(fetcher.refs) != 1 || fetcher.refs[0] != ref {
			t.Fatalf("link %s answered %d, fetched %q; want %q fetched", link, code, fetcher.refs, ref)
		}
		fetcher.refs = nil
		mutated := []byte(link)
		i := len("https://gw.example.vn") + int(at)%(len(link)-len("https://gw.example.vn"))
		if mutated[i] == b {
			return
		}
		mutated[i] = b
		m := string(mutated)
		serveLink(mux, m)
		if len(fetcher.refs) > 0 {
			if got, _ := linkTriple(m); got != signed {
				t.Fatalf("link %s changed to %s is served as %q", link, m, fetcher.refs)
			}
		}
	})
}

func allValid(ss ...string) bool {
	for _, s := range ss {
		if !utf8.ValidString(s) {
			return false
		}
	}
	return true
}

// linkTriple reads a link as the handler does: the id from the path, exp and sig from
// the query.
func linkTriple(link string) ([3]string, bool) {
	u, err := url.Parse(link)
	if err != nil || !strings.HasPrefix(u.Path, "/media/") {
		return [3]string{}, false
	}
	q := u.Query()
	return [3]string{strings.TrimPrefix(u.Path, "/media/"), q.Get("exp"), q.Get("sig")}, true
}

// serveLink asks for link; 0 when it is no URL a request can carry.
func serveLink(h http.Handler, link string) int {
	req, err := http.NewRequest(http.MethodGet, link, nil)
	if err != nil {
		return 0
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Code
}

// fuzzFetcher records the references it is asked for and knows none of them.
type fuzzFetcher struct{ refs []string }

func (f *fuzzFetcher) Fetch(_ context.Context, ref string) (*media.Upstream, error) {
	f.refs = append(f.refs, ref)
	return nil, media.ErrNotFound
}
