package webchat

import (
	"bytes"
	"context"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"path"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/sangkien/sangkien/bot"
	"github.com/sangkien/sangkien/integrations/media"
)

// FileStore keeps the files citizens send (bot/redisstore's WebFiles).
type FileStore interface {
	Put(ctx context.Context, conv, id string, data []byte, mime, name string, ttl time.Duration) error
	Get(ctx context.Context, conv, id string) (data []byte, mime string, found bool, err error)
}

// Files: the largest file taken (the flows' limit on every channel), how long one is
// kept (a draft's 30 days, then the week the intake's media links work), and how many
// one conversation may send an hour.
const (
	MaxFile      = 20 << 20
	FileTTL      = 37 * 24 * time.Hour
	FilesPerHour = 20
	// AddressFilesPerHour bounds the files of one address, all its conversations: a
	// token renewed and conversations opened again do not multiply FilesPerHour.
	AddressFilesPerHour = 60
	// uploadTime is how long a file's request may take to arrive.
	uploadTime = 5 * time.Minute
	maxCaption = 1000
)

// postFile takes one photo or document (multipart/form-data: a "file" part, optional
// "caption" and "id" parts) and runs it as an attachments event. The flows decide
// whether its type is one the city takes, as for the other channels' files; the
// channel checks that a file declared as an image or a PDF is one.
func (s *Server) postFile(w http.ResponseWriter, r *http.Request) {
	c, ok := s.authorize(w, r)
	if !ok {
		return
	}
	mt, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "multipart/form-data" || params["boundary"] == "" {
		writeError(w, http.StatusUnsupportedMediaType, "send multipart/form-data with a file part")
		return
	}
	if r.ContentLength > MaxFile+64<<10 {
		writeError(w, http.StatusRequestEntityTooLarge, "the file is too large")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, MaxFile+64<<10)
	// The server's read timeout (30 s) is for webhooks; a photo from a phone on a slow
	// network takes longer.
	_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(uploadTime))
	if !s.within(w, r, "file", c.Conversation, FilesPerHour, time.Hour) ||
		!s.within(w, r, "fileaddr", s.clientAddr(r), AddressFilesPerHour, time.Hour) ||
		!s.within(w, r, "addr", s.clientAddr(r), AddressMessagesPerMin, time.Minute) {
		return
	}
	up, status, msg := readUpload(multipart.NewReader(r.Body, params["boundary"]))
	if status != 0 {
		writeError(w, status, msg)
		return
	}
	att, err := attachment(up)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	ev, err := s.event(c, messageInput{ID: up.id, Text: "-"})
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	// The file is named by its event: a retry with the same id writes the same file
	// again, not a second copy.
	fileID := strings.TrimPrefix(ev.ID, c.Conversation+"/")
	att.Ref = c.Conversation + "/" + fileID
	ev.Kind, ev.Text, ev.Attachments = bot.EventAttachments, up.caption, []bot.Attachment{att}
	ctx, cancel := context.WithTimeout(r.Context(), handleTimeout)
	defer cancel()
	if err := s.cfg.Files.Put(ctx, c.Conversation, fileID, up.data, att.MIME, att.Name, FileTTL); err != nil {
		s.unavailable(w, "store file", err)
		return
	}
	out, err := s.cfg.Handler.Handle(ctx, ev)
	if err != nil {
		s.unavailable(w, "file", err)
		return
	}
	writeJSON(w, http.StatusAccepted, map[string]any{"id": strings.TrimPrefix(ev.ID, c.Conversation+"/"), "duplicate": out.Duplicate})
}

// upload is what a file request carries.
type upload struct {
	data           []byte
	name, declared string
	caption, id    string
	sawFile        bool
}

// readUpload reads the parts: one file, at most one caption and one id, nothing else.
func readUpload(mr *multipart.Reader) (upload, int, string) {
	var up upload
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return up, tooBigOr(err, http.StatusBadRequest), "the multipart body cannot be read"
		}
		switch name := p.FormName(); {
		case name == "file" && !up.sawFile:
			up.sawFile = true
			up.data, err = io.ReadAll(io.LimitReader(p, MaxFile+1))
			if err != nil {
				return up, tooBigOr(err, http.StatusBadRequest), "the file cannot be read"
			}
			if len(up.data) > MaxFile {
				return up, http.StatusRequestEntityTooLarge, "the file is too large"
			}
			up.name, up.declared = cleanName(p.FileName()), p.Header.Get("Content-Type")
		case (name == "caption" && up.caption == "") || (name == "id" && up.id == ""):
			b, err := io.ReadAll(io.LimitReader(p, 4*maxCaption+1))
			if err != nil || len(b) > 4*maxCaption || !utf8.Valid(b) || utf8.RuneCount(b) > maxCaption {
				return up, http.StatusBadRequest, name + ": at most 1000 characters of UTF-8"
			}
			if name == "caption" {
				up.caption = string(b)
			} else {
				up.id = string(b)
			}
		default:
			return up, http.StatusBadRequest, "unexpected part " + name + ": send one file, and optionally caption and id"
		}
	}
	if !up.sawFile || len(up.data) == 0 {
		return up, http.StatusBadRequest, "a non-empty file part is required"
	}
	return up, 0, ""
}

func tooBigOr(err error, status int) int {
	if tooBig := (*http.MaxBytesError)(nil); errors.As(err, &tooBig) {
		return http.StatusRequestEntityTooLarge
	}
	return status
}

// attachment describes the file by what it is: a photo when its bytes are a JPEG,
// PNG or WebP image; a declared image or PDF whose bytes are not one is refused (its
// type is the sender's word). Other types are passed on as declared for the flows'
// allow-list to judge, with the name's extension.
func attachment(up upload) (bot.Attachment, error) {
	sniffed := http.DetectContentType(up.data)
	declared, _, _ := mime.ParseMediaType(up.declared)
	a := bot.Attachment{Kind: bot.Document, MIME: declared, Size: int64(len(up.data)), Name: up.name}
	switch sniffed {
	case "image/jpeg", "image/png", "image/webp":
		a.Kind, a.MIME = bot.Photo, sniffed
		return a, nil
	case "application/pdf":
		a.MIME = sniffed
		return a, nil
	}
	if declared == "application/pdf" || (strings.HasPrefix(declared, "image/") && declared != "image/heic" && declared != "image/heif") {
		return a, errors.New("the file is not the " + declared + " it says it is")
	}
	return a, nil
}

// cleanName keeps a file name's last element, without control characters, at most
// 200 characters.
func cleanName(name string) string {
	name = path.Base(strings.ReplaceAll(name, "\\", "/"))
	name = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, name)
	if name == "." || name == "/" {
		return ""
	}
	if utf8.RuneCountInString(name) > 200 {
		name = string([]rune(name)[:200])
	}
	return name
}

// Files serves the files citizens sent to the media proxy (a media.Fetcher): the
// intake downloads them through its signed links. A nil *Files knows no file (the
// channel is off).
type Files struct {
	Store FileStore
}

var _ media.Fetcher = (*Files)(nil)

// Fetch opens the file ref ("<conversation>/<file id>") names.
func (f *Files) Fetch(ctx context.Context, ref string) (*media.Upstream, error) {
	conv, id, ok := strings.Cut(ref, "/")
	if f == nil || !ok || conv == "" || id == "" {
		return nil, media.ErrNotFound
	}
	data, mt, found, err := f.Store.Get(ctx, conv, id)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, media.ErrNotFound
	}
	return &media.Upstream{Body: io.NopCloser(bytes.NewReader(data)), ContentType: mt, Length: int64(len(data))}, nil
}
