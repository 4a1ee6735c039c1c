package media

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/sangkien/sangkien/bot"
)

// Fetcher downloads a file from the channel that holds it. Each channel has one.
type Fetcher interface {
	// Fetch opens the file ref names. A file the channel does not know is ErrNotFound.
	// Errors must not carry a credential (a URL with a token in it).
	Fetch(ctx context.Context, ref string) (*Upstream, error)
}

// Upstream is a file being downloaded from a channel.
type Upstream struct {
	Body io.ReadCloser
	// ContentType is the channel's answer header; may be empty.
	ContentType string
	// Length is the size in bytes, -1 when unknown.
	Length int64
}

// ErrNotFound is a file the channel does not have (any more).
var ErrNotFound = errors.New("media: file not found")

// fetchTimeout bounds getting the file's first byte from a channel; the body then streams
// as long as the client reads it.
const fetchTimeout = 30 * time.Second

// Handler serves GET /media/{id}: it checks the link, then streams the file from its
// channel with its type and name.
type Handler struct {
	signer   *Signer
	fetchers map[bot.Channel]Fetcher
	types    TypeCheck
	log      *slog.Logger
}

// TypeCheck is the gateway's allow-list of citizens' files (flows.FileType): the media
// type a file of this kind, name and type may be served as, ok false for any other.
type TypeCheck func(kind bot.AttachmentKind, name, mediaType string) (string, bool)

// NewHandler builds the handler; fetchers holds one Fetcher per channel whose files it
// serves (a link to any other channel answers 404). types says which files are served
// under their own type; every other file, and every file when types is nil, is served
// as application/octet-stream, as a download.
func NewHandler(s *Signer, fetchers map[bot.Channel]Fetcher, types TypeCheck, log *slog.Logger) *Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Handler{signer: s, fetchers: fetchers, types: types, log: log.With("component", "media")}
}

// ServeHTTP answers 403 for a bad signature, 410 for an expired link, 404 for an
// unknown channel or file (a reference the channel refuses, such as a Zalo file URL
// on a host that is not Zalo's, included), 502 when the channel does not answer.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if id == "" {
		id = strings.TrimPrefix(r.URL.Path, "/media/")
	}
	q := r.URL.Query()
	f, err := h.signer.Check(id, q.Get("exp"), q.Get("sig"))
	switch {
	case errors.Is(err, ErrBadSignature):
		http.Error(w, "bad signature", http.StatusForbidden)
		return
	case errors.Is(err, ErrExpired):
		http.Error(w, "link expired", http.StatusGone)
		return
	case err != nil:
		http.Error(w, "not found", http.StatusNotFound)
		return
	}
	fetcher, ok := h.fetchers[f.Channel]
	if !ok {
		http.Error(w, "not found", http.StatusNotFound)
		return
	}
	ctx, cancel := context.WithCancelCause(r.Context())
	defer cancel(nil)
	timer := time.AfterFunc(fetchTimeout, func() { cancel(errors.New("channel too slow")) })
	up, err := fetcher.Fetch(ctx, f.Ref)
	timer.Stop()
	if err != nil {
		h.fetchFailed(w, f, err)
		return
	}
	defer up.Body.Close()
	body := bufio.NewReaderSize(up.Body, 512)
	head, _ := body.Peek(512) // for sniffing: a short or failing body shows up in the copy
	hd := w.Header()
	hd.Set("Content-Type", h.servedType(f, up.ContentType, head))
	hd.Set("Content-Disposition", disposition(f, hd.Get("Content-Type")))
	hd.Set("X-Content-Type-Options", "nosniff")
	// The file is the citizen's, not the gateway's: nothing in it may run as our page.
	hd.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("Cache-Control", "private, max-age=3600")
	if up.Length >= 0 {
		hd.Set("Content-Length", strconv.FormatInt(up.Length, 10))
	}
	if _, err := io.Copy(w, body); err != nil && r.Context().Err() == nil {
		h.log.Warn("streaming a file stopped", "channel", f.Channel, "err", err)
	}
}

// fetchFailed answers a failed fetch: 404 for a file the channel does not know, 502
// otherwise. The error is logged by class: the fetcher keeps credentials out of it.
func (h *Handler) fetchFailed(w http.ResponseWriter, f File, err error) {
	var se *bot.SendError
	if errors.Is(err, ErrNotFound) || (errors.As(err, &se) && se.Failure == bot.Permanent) {
		h.log.Info("file not found at its channel", "channel", f.Channel, "err", err)
		http.Error(w, "not found", http.StatusNotFound)
		return
	}
	h.log.Warn("fetching a file failed", "channel", f.Channel, "err", err)
	http.Error(w, "the channel did not answer", http.StatusBadGateway)
}

// servedType is the type a file goes out as. A citizen's file is never served under a
// type off the allow-list (text/html above all: it would run as a page of the
// gateway's origin), nor under any type when its first bytes look like a web page,
// whatever was declared: such files go out as application/octet-stream, which
// disposition then makes a download.
func (h *Handler) servedType(f File, upstream string, head []byte) string {
	const opaque = "application/octet-stream"
	if h.types == nil || looksLikeMarkup(head) {
		return opaque
	}
	declared := f.MIME
	if declared == "" && f.Name == "" {
		// Nothing the citizen's channel said: what the download says, or its first bytes.
		declared = contentType(f, upstream, head)
	}
	t, ok := h.types(f.Kind, f.Name, declared)
	if !ok {
		return opaque
	}
	return t
}

// looksLikeMarkup reports first bytes a browser might render as a page or script.
func looksLikeMarkup(head []byte) bool {
	if len(head) == 0 {
		return false
	}
	mt, _, _ := mime.ParseMediaType(http.DetectContentType(head))
	return mt == "text/html" || mt == "text/xml"
}

// contentType is the attachment's own type, else Telegram's photo format, else what the
// channel said when it said something specific, else what the first bytes look like.
func contentType(f File, upstream string, head []byte) string {
	if t := cleanType(f.MIME); t != "" {
		return t
	}
	if f.Kind == bot.Photo {
		return "image/jpeg" // channels re-encode photos as JPEG
	}
	if t := cleanType(upstream); t != "" && t != "application/octet-stream" {
		return t
	}
	if len(head) > 0 {
		return http.DetectContentType(head)
	}
	return "application/octet-stream"
}

// cleanType parses a media type, dropping anything that is not one.
func cleanType(t string) string {
	mt, params, err := mime.ParseMediaType(t)
	if err != nil || !strings.Contains(mt, "/") {
		return ""
	}
	return mime.FormatMediaType(mt, params)
}

// inlineTypes are shown in the browser; anything else is downloaded.
var inlineTypes = map[string]bool{"image/jpeg": true, "image/png": true, "image/gif": true, "image/webp": true}

// disposition names the file (RFC 6266): an ASCII fallback and the UTF-8 name.
func disposition(f File, ctype string) string {
	name := f.Name
	if name == "" {
		name = defaultName(f, ctype)
	}
	kind := "attachment"
	if mt, _, _ := mime.ParseMediaType(ctype); inlineTypes[mt] {
		kind = "inline"
	}
	return fmt.Sprintf(`%s; filename="%s"; filename*=UTF-8''%s`, kind, asciiName(name), encodeRFC5987(name))
}

// defaultName names a file that came without a name: "photo.jpg", "file.pdf".
func defaultName(f File, ctype string) string {
	base := "file"
	if f.Kind == bot.Photo {
		base = "photo"
	}
	mt, _, _ := mime.ParseMediaType(ctype)
	switch mt {
	case "image/jpeg":
		return base + ".jpg"
	case "image/png":
		return base + ".png"
	case "application/pdf":
		return base + ".pdf"
	case "text/plain":
		return base + ".txt"
	case "application/octet-stream":
		return base // the system's table would guess an extension: none is known
	}
	if exts, _ := mime.ExtensionsByType(mt); len(exts) > 0 {
		return base + exts[0]
	}
	return base
}

// asciiName replaces what a quoted-string cannot hold, or old clients cannot read.
func asciiName(name string) string {
	var b strings.Builder
	for _, r := range name {
		switch {
		case r < 0x20 || r > 0x7e || r == '"' || r == '\\' || r == '/':
			b.WriteByte('_')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// encodeRFC5987 percent-encodes every byte that is not an attr-char.
func encodeRFC5987(s string) string {
	const attr = "!#$&+-.^_`|~"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte(attr, c) >= 0 {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "%%%02X", c)
	}
	return b.String()
}
