package terminal

import (
	"errors"
	"fmt"
	"io/fs"
	"mime"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/sangkien/sangkien/bot"
)

// InputError is a typed line the terminal cannot turn into an event. ID names the
// message, in locales, that tells the citizen why, in their language.
type InputError struct {
	ID   string
	Data map[string]any
}

func (e *InputError) Error() string {
	if len(e.Data) == 0 {
		return e.ID
	}
	return fmt.Sprintf("%s %v", e.ID, e.Data)
}

func inputError(id string, kv ...string) *InputError {
	e := &InputError{ID: id, Data: map[string]any{}}
	for i := 0; i+1 < len(kv); i += 2 {
		e.Data[kv[i]] = kv[i+1]
	}
	return e
}

// ParseLine turns one typed line into an event (without id and conversation). Its
// errors are *InputError.
func ParseLine(line string) (bot.Event, error) {
	if cmd, ok := strings.CutPrefix(line, "/"); ok {
		name, payload, _ := strings.Cut(cmd, " ")
		return bot.Event{Kind: bot.EventCommand, Command: name, Payload: strings.TrimSpace(payload)}, nil
	}
	if !strings.HasPrefix(line, ":") {
		return bot.Event{Kind: bot.EventText, Text: line}, nil
	}
	word, rest, _ := strings.Cut(line, " ")
	rest = strings.TrimSpace(rest)
	switch word {
	case ":location":
		return parseLocation(rest)
	case ":contact":
		return parseContact(rest)
	case ":photo":
		return attachment(bot.Photo, rest)
	case ":file":
		return attachment(bot.Document, rest)
	default:
		return bot.Event{}, inputError("terminal.unknown_input", "Word", word)
	}
}

func parseLocation(rest string) (bot.Event, error) {
	f := strings.Fields(rest)
	if len(f) < 2 {
		return bot.Event{}, inputError("terminal.usage_location")
	}
	lat, err1 := strconv.ParseFloat(f[0], 64)
	lon, err2 := strconv.ParseFloat(f[1], 64)
	if err1 != nil || err2 != nil || lat < -90 || lat > 90 || lon < -180 || lon > 180 {
		return bot.Event{}, inputError("terminal.bad_location")
	}
	return bot.Event{Kind: bot.EventLocation, Location: &bot.Location{
		Lat: lat, Lon: lon, Label: strings.Join(f[2:], " "),
	}}, nil
}

// parseContact reads "<name> <phone>": the phone starts at the first word that starts
// with a digit or "+", so both may hold spaces ("Nguyễn Văn An 0912 345 678").
func parseContact(rest string) (bot.Event, error) {
	f := strings.Fields(rest)
	i := slices.IndexFunc(f, func(w string) bool { return w[0] == '+' || (w[0] >= '0' && w[0] <= '9') })
	if i < 0 {
		return bot.Event{}, inputError("terminal.usage_contact")
	}
	return bot.Event{Kind: bot.EventContact, Contact: &bot.Contact{
		Name: strings.Join(f[:i], " "), Phone: strings.Join(f[i:], " "), Own: true,
	}}, nil
}

// attachment reads a local file's size and type, as a channel would report them; the
// file itself stays where it is and Ref points at it.
func attachment(kind bot.AttachmentKind, path string) (bot.Event, error) {
	if path == "" {
		if kind == bot.Photo {
			return bot.Event{}, inputError("terminal.usage_photo")
		}
		return bot.Event{}, inputError("terminal.usage_file")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return bot.Event{}, inputError("terminal.cannot_read", "Path", path)
	}
	info, err := os.Stat(abs)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return bot.Event{}, inputError("terminal.no_file", "Path", path)
	case err != nil:
		return bot.Event{}, inputError("terminal.cannot_read", "Path", path)
	case info.IsDir():
		return bot.Event{}, inputError("terminal.folder", "Path", path)
	}
	return bot.Event{Kind: bot.EventAttachments, Attachments: []bot.Attachment{{
		Kind: kind,
		Ref:  "file:" + abs,
		MIME: mimeOf(abs),
		Size: info.Size(),
		Name: filepath.Base(abs),
	}}}, nil
}

// officeTypes are the document types citizens send most, which the system's MIME table
// may lack.
var officeTypes = map[string]string{
	".jpg":  "image/jpeg",
	".jpeg": "image/jpeg",
	".png":  "image/png",
	".webp": "image/webp",
	".heic": "image/heic",
	".pdf":  "application/pdf",
	".doc":  "application/msword",
	".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
	".xls":  "application/vnd.ms-excel",
	".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}

func mimeOf(path string) string {
	ext := strings.ToLower(filepath.Ext(path))
	if t, ok := officeTypes[ext]; ok {
		return t
	}
	if t := mime.TypeByExtension(ext); t != "" {
		if m, _, err := mime.ParseMediaType(t); err == nil {
			return m
		}
	}
	return "application/octet-stream"
}
