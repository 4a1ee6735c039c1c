package media_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sangkien/sangkien/bot"
	"github.com/sangkien/sangkien/bot/bottest"
	"github.com/sangkien/sangkien/flows"
	"github.com/sangkien/sangkien/integrations/media"
	"github.com/sangkien/sangkien/integrations/telegram"
	"github.com/sangkien/sangkien/integrations/telegram/telegramtest"
	"github.com/sangkien/sangkien/integrations/zalo"
)

var testKey = []byte("0123456789abcdef0123456789abcdef")

const base = "https://gw.example.vn"

// rig is a media handler in front of a fake Bot API, with everything it wrote captured.
type rig struct {
	api     *telegramtest.Server
	handler http.Handler
	signer  *media.Signer
	logs    *bytes.Buffer
	seen    strings.Builder // every link, response header and body the test saw
}

func newRig(t *testing.T) *rig {
	t.Helper()
	r := &rig{api: telegramtest.NewServer(t), logs: &bytes.Buffer{}}
	log := slog.New(slog.NewTextHandler(r.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	cat := bottest.Catalog(t)
	client, err := telegram.NewClient(telegramtest.Token, r.api.Endpoint(), nil, cat, log)
	if err != nil {
		t.Fatal(err)
	}
	r.signer = newSigner(t, time.Now)
	mux := http.NewServeMux()
	mux.Handle("GET /media/{id}", media.NewHandler(r.signer, map[bot.Channel]media.Fetcher{
		bot.Telegram: media.URLFetcher{Resolve: client.FileURL},
	}, flows.FileType, log))
	r.handler = mux
	return r
}

func newSigner(t *testing.T, now func() time.Time) *media.Signer {
	t.Helper()
	s, err := media.NewSigner(testKey, base+"/", 0, now)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func (r *rig) get(t *testing.T, link string) *httptest.ResponseRecorder {
	t.Helper()
	u, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(link, base+"/media/") {
		t.Fatalf("link %q is not under %s/media/", link, base)
	}
	rec := httptest.NewRecorder()
	r.handler.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, u.RequestURI(), nil))
	r.seen.WriteString(link + "\n")
	for k, v := range rec.Header() {
		r.seen.WriteString(k + ": " + strings.Join(v, ",") + "\n")
	}
	r.seen.Write(rec.Body.Bytes())
	return rec
}

func (r *rig) link(t *testing.T, s *media.Signer, ch bot.Channel, a bot.Attachment) string {
	t.Helper()
	l, err := s.Link(ch, a)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func TestMediaProxy(t *testing.T) {
	r := newRig(t)
	jpeg := append([]byte{0xff, 0xd8, 0xff, 0xe0}, bytes.Repeat([]byte("x"), 600)...)
	r.api.AddFile("photo-1", "photos/file_1.jpg", jpeg)
	r.api.AddFile("doc-1", "documents/file_2.pdf", []byte("%PDF-1.7 plan"))
	r.api.AddFile("doc-2", "documents/file_3", []byte("plain notes about the street light\n"))
	exe := append([]byte("MZ\x90\x00\x03"), bytes.Repeat([]byte{0}, 64)...)
	r.api.AddFile("doc-exe", "documents/file_4.exe", exe)
	page := []byte("<!DOCTYPE html><html><body><script>fetch('/console/api/conversations')</script></body></html>")
	r.api.AddFile("doc-html", "documents/file_5.html", page)
	docx := append([]byte("PK\x03\x04"), bytes.Repeat([]byte{1}, 64)...)
	r.api.AddFile("doc-docx", "documents/file_6", docx)

	expired := newSigner(t, func() time.Time { return time.Now().Add(-8 * 24 * time.Hour) })
	good := r.link(t, r.signer, bot.Telegram, bot.Attachment{Kind: bot.Document, Ref: "doc-1", MIME: "application/pdf", Name: "Kế hoạch \"mới\".pdf"})
	tampered := strings.Replace(good, "sig=", "sig=00", 1)
	other := newSignerKey(t, []byte("another key, also 32 bytes long!"))

	tests := []struct {
		name        string
		link        string
		status      int
		ctype       string
		disposition string
		body        []byte
	}{
		{name: "photo", link: r.link(t, r.signer, bot.Telegram, bot.Attachment{Kind: bot.Photo, Ref: "photo-1"}),
			status: 200, ctype: "image/jpeg", disposition: `inline; filename="photo.jpg"; filename*=UTF-8''photo.jpg`, body: jpeg},
		{name: "named document", link: good, status: 200, ctype: "application/pdf",
			disposition: `attachment; filename="K_ ho_ch _m_i_.pdf"; filename*=UTF-8''K%E1%BA%BF%20ho%E1%BA%A1ch%20%22m%E1%BB%9Bi%22.pdf`,
			body:        []byte("%PDF-1.7 plan")},
		// Plain text is not on the allow-list of citizens' files: a download, never shown.
		{name: "type sniffed when nobody says, off the list", link: r.link(t, r.signer, bot.Telegram, bot.Attachment{Kind: bot.Document, Ref: "doc-2"}),
			status: 200, ctype: "application/octet-stream", disposition: `attachment; filename="file"; filename*=UTF-8''file`,
			body: []byte("plain notes about the street light\n")},
		{name: "exe declared as a PDF", link: r.link(t, r.signer, bot.Telegram, bot.Attachment{Kind: bot.Document, Ref: "doc-exe", MIME: "application/pdf", Name: "evil.exe"}),
			status: 200, ctype: "application/octet-stream", disposition: `attachment; filename="evil.exe"; filename*=UTF-8''evil.exe`, body: exe},
		{name: "PDF declared as HTML", link: r.link(t, r.signer, bot.Telegram, bot.Attachment{Kind: bot.Document, Ref: "doc-html", MIME: "text/html", Name: "x.pdf"}),
			status: 200, ctype: "application/octet-stream", disposition: `attachment; filename="x.pdf"; filename*=UTF-8''x.pdf`, body: page},
		{name: "a page with neither name nor type", link: r.link(t, r.signer, bot.Telegram, bot.Attachment{Kind: bot.Document, Ref: "doc-html"}),
			status: 200, ctype: "application/octet-stream", disposition: `attachment; filename="file"; filename*=UTF-8''file`, body: page},
		{name: "a page declared and named as a PDF", link: r.link(t, r.signer, bot.Telegram, bot.Attachment{Kind: bot.Document, Ref: "doc-html", MIME: "application/pdf", Name: "ke-hoach.pdf"}),
			status: 200, ctype: "application/octet-stream", disposition: `attachment; filename="ke-hoach.pdf"; filename*=UTF-8''ke-hoach.pdf`, body: page},
		{name: "Word file known by its name, the download saying zip", link: r.link(t, r.signer, bot.Telegram, bot.Attachment{Kind: bot.Document, Ref: "doc-docx", Name: "de-xuat.docx"}),
			status: 200, ctype: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
			disposition: `attachment; filename="de-xuat.docx"; filename*=UTF-8''de-xuat.docx`, body: docx},
		{name: "Word file known by its name only", link: r.link(t, r.signer, bot.Telegram, bot.Attachment{Kind: bot.Document, Ref: "doc-1", MIME: "application/octet-stream", Name: "bien-ban.doc"}),
			status: 200, ctype: "application/msword", disposition: `attachment; filename="bien-ban.doc"; filename*=UTF-8''bien-ban.doc`, body: []byte("%PDF-1.7 plan")},
		{name: "tampered signature", link: tampered, status: 403},
		{name: "signed with another key", link: r.link(t, other, bot.Telegram, bot.Attachment{Ref: "doc-1"}), status: 403},
		{name: "no signature", link: strings.Split(good, "?")[0] + "?exp=9999999999", status: 403},
		{name: "expired", link: r.link(t, expired, bot.Telegram, bot.Attachment{Ref: "doc-1"}), status: 410},
		{name: "channel without a fetcher", link: r.link(t, r.signer, bot.Zalo, bot.Attachment{Ref: "https://zalo.example/f/1"}), status: 404},
		{name: "file the channel does not know", link: r.link(t, r.signer, bot.Telegram, bot.Attachment{Ref: "gone"}), status: 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := r.get(t, tt.link)
			if rec.Code != tt.status {
				t.Fatalf("status %d, want %d (%s)", rec.Code, tt.status, rec.Body)
			}
			if tt.status != 200 {
				return
			}
			if got := rec.Header().Get("Content-Type"); got != tt.ctype {
				t.Errorf("Content-Type %q, want %q", got, tt.ctype)
			}
			if got := rec.Header().Get("Content-Disposition"); got != tt.disposition {
				t.Errorf("Content-Disposition %q, want %q", got, tt.disposition)
			}
			if got := rec.Header().Get("X-Content-Type-Options"); got != "nosniff" {
				t.Errorf("X-Content-Type-Options %q", got)
			}
			if got := rec.Header().Get("Content-Security-Policy"); !strings.Contains(got, "sandbox") {
				t.Errorf("Content-Security-Policy %q", got)
			}
			if !bytes.Equal(rec.Body.Bytes(), tt.body) {
				t.Errorf("body %q, want %q", rec.Body.Bytes(), tt.body)
			}
		})
	}

	t.Run("channel down", func(t *testing.T) {
		r.api.Fail("getFile", http.StatusInternalServerError, `{"ok":false,"error_code":500,"description":"Internal Server Error"}`)
		if rec := r.get(t, good); rec.Code != http.StatusBadGateway {
			t.Errorf("status %d, want 502", rec.Code)
		}
	})
	// Everything the test captured: links, answers, the fake's records, the logs.
	everything := r.seen.String() + r.logs.String()
	for _, req := range r.api.Requests() {
		for k, v := range req.Params {
			everything += k + "=" + v + "\n"
		}
	}
	secret := telegramtest.Token[strings.Index(telegramtest.Token, ":")+1:]
	if strings.Contains(everything, telegramtest.Token) || strings.Contains(everything, secret) {
		t.Errorf("the bot token leaked into what the test captured:\n%s", everything)
	}
	if !strings.Contains(r.logs.String(), "component=media") {
		t.Errorf("no media log line was written; the leak check saw nothing:\n%s", r.logs)
	}
}

// A download that fails halfway through the network must not quote the file URL.
func TestURLFetcherHidesTheURL(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	addr := srv.URL
	srv.Close() // nothing listens any more
	secretURL := addr + "/file/bot" + telegramtest.Token + "/photos/1.jpg"
	f := media.URLFetcher{Resolve: func(context.Context, string) (string, error) { return secretURL, nil }}
	_, err := f.Fetch(context.Background(), "ref")
	if err == nil {
		t.Fatal("fetch from a closed server succeeded")
	}
	if strings.Contains(err.Error(), telegramtest.Token) {
		t.Errorf("error quotes the URL: %v", err)
	}
}

func TestSignerRefusesWeakSetups(t *testing.T) {
	tests := []struct {
		name string
		key  []byte
		base string
	}{
		{"short key", []byte("short"), base},
		{"relative base", testKey, "/gw"},
		{"other scheme", testKey, "ftp://gw.example.vn"},
	}
	for _, tt := range tests {
		if _, err := media.NewSigner(tt.key, tt.base, 0, nil); err == nil {
			t.Errorf("%s: accepted", tt.name)
		}
	}
	if _, err := newSigner(t, nil).Link(bot.Telegram, bot.Attachment{}); err == nil {
		t.Error("a link without a reference was made")
	}
}

func newSignerKey(t *testing.T, key []byte) *media.Signer {
	t.Helper()
	s, err := media.NewSigner(key, base, time.Hour, nil)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// Links counted from a submission's time are the same on every delivery; a link that
// would have less than a day left counts from now.
func TestLinkSinceIsStable(t *testing.T) {
	now := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	s := newSigner(t, func() time.Time { return now })
	a := bot.Attachment{Kind: bot.Photo, Ref: "AgAD1"}
	submitted := now.Add(-2 * time.Hour)
	first, err := s.LinkSince(bot.Telegram, a, submitted)
	if err != nil {
		t.Fatal(err)
	}
	now = now.Add(3 * time.Hour) // a retry, later
	again, _ := s.LinkSince(bot.Telegram, a, submitted)
	if first != again {
		t.Errorf("retried link differs:\n%s\n%s", first, again)
	}
	u, _ := url.Parse(again)
	if want := submitted.Add(media.DefaultTTL).Unix(); u.Query().Get("exp") != strconv.FormatInt(want, 10) {
		t.Errorf("exp = %s, want %d", u.Query().Get("exp"), want)
	}
	old, _ := s.LinkSince(bot.Telegram, a, now.Add(-7*24*time.Hour))
	u, _ = url.Parse(old)
	if want := now.Add(media.DefaultTTL).Unix(); u.Query().Get("exp") != strconv.FormatInt(want, 10) {
		t.Errorf("a week-old submission's link expires at %s, want a fresh week (%d)", u.Query().Get("exp"), want)
	}
}

// A fetcher with Allow refuses a URL, or a redirect, to a host it does not allow.
func TestURLFetcherAllowsOnlyItsHosts(t *testing.T) {
	inside := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("internal secrets"))
	}))
	defer inside.Close()
	files := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/jump" {
			http.Redirect(w, r, inside.URL+"/admin", http.StatusFound)
			return
		}
		_, _ = w.Write([]byte("photo"))
	}))
	defer files.Close()
	filesHost := strings.TrimPrefix(files.URL, "http://")
	f := media.URLFetcher{
		Resolve: func(_ context.Context, ref string) (string, error) { return ref, nil },
		Allow:   func(u *url.URL) bool { return u.Host == filesHost },
	}
	ctx := context.Background()
	up, err := f.Fetch(ctx, files.URL+"/a.jpg")
	if err != nil {
		t.Fatal(err)
	}
	up.Body.Close()
	if _, err := f.Fetch(ctx, inside.URL+"/admin"); err == nil {
		t.Error("fetched from a host that is not allowed")
	}
	if up, err := f.Fetch(ctx, files.URL+"/jump"); err == nil {
		up.Body.Close()
		t.Error("followed a redirect to a host that is not allowed")
	}
}

// Without the allow-list, nothing is served under its own type: every file is a download.
func TestMediaProxyWithoutTypesServesDownloads(t *testing.T) {
	api := telegramtest.NewServer(t)
	client, err := telegram.NewClient(telegramtest.Token, api.Endpoint(), nil, bottest.Catalog(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	jpeg := append([]byte{0xff, 0xd8, 0xff, 0xe0}, bytes.Repeat([]byte("x"), 600)...)
	api.AddFile("photo-1", "photos/file_1.jpg", jpeg)
	s := newSigner(t, time.Now)
	h := media.NewHandler(s, map[bot.Channel]media.Fetcher{bot.Telegram: media.URLFetcher{Resolve: client.FileURL}}, nil, nil)
	link, err := s.Link(bot.Telegram, bot.Attachment{Kind: bot.Photo, Ref: "photo-1"})
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(link)
	mux := http.NewServeMux()
	mux.Handle("GET /media/{id}", h)
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, u.RequestURI(), nil))
	if rec.Code != 200 || rec.Header().Get("Content-Type") != "application/octet-stream" ||
		!strings.HasPrefix(rec.Header().Get("Content-Disposition"), "attachment;") {
		t.Errorf("status %d, Content-Type %q, Content-Disposition %q", rec.Code, rec.Header().Get("Content-Type"), rec.Header().Get("Content-Disposition"))
	}
}

// A Zalo file reference on a host that is not Zalo's is a file the channel does not
// have: 404, not 502 (nothing upstream failed, and asking again cannot help). The
// fetcher is wired as the gateway wires it.
func TestZaloFileOnARefusedHostIsNotFound(t *testing.T) {
	files := zalo.FileURLs{Hosts: zalo.DefaultFileHosts()}
	signer := newSigner(t, time.Now)
	mux := http.NewServeMux()
	mux.Handle("GET /media/{id}", media.NewHandler(signer, map[bot.Channel]media.Fetcher{
		bot.Zalo: media.URLFetcher{Resolve: files.Resolve, Allow: files.Allowed},
	}, nil, slog.New(slog.DiscardHandler)))
	r := &rig{handler: mux}
	for _, ref := range []string{"https://cdn.example.net/pothole.jpg", "http://f1.zdn.vn/file/de-xuat.pdf", "https://127.0.0.1/admin", "not a url"} {
		rec := r.get(t, r.link(t, signer, bot.Zalo, bot.Attachment{Kind: bot.Photo, Ref: ref}))
		if rec.Code != http.StatusNotFound {
			t.Errorf("%s: status %d, want 404", ref, rec.Code)
		}
	}
}
