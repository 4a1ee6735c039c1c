package terminal

import (
	"fmt"
	"mime"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/sangkien/sangkien/bot"
)

// ParseLine turns one typed line into an event (without id and conversation).
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
		return bot.Event{}, fmt.Errorf("unknown input %s: use :location, :contact, :photo, :file or :quit", word)
	}
}

func parseLocation(rest string) (bot.Event, error) {
	f := strings.Fields(rest)
	if len(f) < 2 {
		return bot.Event{}, fmt.Errorf("usage: :location <lat> <lon> [label]")
	}
	lat, err1 := strconv.ParseFloat(f[0], 64)
	lon, err2 := strconv.ParseFloat(f[1], 64)
	if err1 != nil || err2 != nil || lat < -90 || lat > 90 || lon < -180 || lon > 180 {
		return bot.Event{}, fmt.Errorf("usage: :location <lat> <lon>, e.g. :location 21.0285 105.8542")
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
		return bot.Event{}, fmt.Errorf("usage: :contact <name> <phone>, e.g. :contact Nguyễn Văn An 0912345678")
	}
	return bot.Event{Kind: bot.EventContact, Contact: &bot.Contact{
		Name: strings.Join(f[:i], " "), Phone: strings.Join(f[i:], " "), Own: true,
	}}, nil
}

// attachment reads a local file's size and type, as a channel would report them; the
// file itself stays where it is and Ref points at it.
func attachment(kind bot.AttachmentKind, path string) (bot.Event, error) {
	if path == "" {
		return bot.Event{}, fmt.Errorf("usage: :%s <path>", map[bot.AttachmentKind]string{bot.Photo: "photo", bot.Document: "file"}[kind])
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return bot.Event{}, err
	}
	info, err := os.Stat(abs)
	if err != nil {
		return bot.Event{}, fmt.Errorf("cannot read %s: %w", path, err)
	}
	if info.IsDir() {
		return bot.Event{}, fmt.Errorf("%s is a folder", path)
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
