package flows

import (
	"net/mail"
	"path"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/nyaruka/phonenumbers"
	"github.com/sangkien/sangkien/bot"
)

// Limits of the answers, in characters (runes), as the issue sets them.
const (
	titleMin, titleMax             = 10, 150
	descriptionMin, descriptionMax = 50, 4000
	benefitMin, benefitMax         = 20, 2000
	commentMin, commentMax         = 5, 2000
	nameMin, nameMax               = 2, 100
	locationMin, locationMax       = 2, 200
	maxAttachments                 = 5
	maxAttachmentMB                = 20
	maxAttachmentSize              = maxAttachmentMB << 20
)

func runes(s string) int { return utf8.RuneCountInString(s) }

// normalizePhone reads a phone number in any common form and returns it as E.164.
// A number without a country code is Vietnamese ("0912 345 678", "091.234.5678",
// "(+84)912-345-678", "0084 912 345 678", "84912345678", "+84 0912 345 678") and must be
// a mobile one (03, 05, 07, 08, 09): staff call or text it back. A number with one
// ("+44 7911 123456", "+7 916 123-45-67") is any valid number of its country, so an
// expatriate can give their own. Spaces of any kind (a pasted non-breaking space, a tab),
// dots, hyphens between digits, brackets and a slash are separators; digits without a
// plus that are no Vietnamese number are read as international, as contact cards send
// them ("447911123456"); anything else
// (letters, a leading minus, two plus signs) makes it not a number.
func normalizePhone(s string) (string, bool) {
	var d strings.Builder
	plus := false
	for _, r := range strings.TrimSpace(strings.Map(spaceToBlank, s)) {
		switch {
		case r >= '0' && r <= '9':
			d.WriteRune(r)
		case r == '+' && d.Len() == 0 && !plus:
			plus = true
		case r == '-' && d.Len() == 0:
			return "", false // "-0912345678" is a negative number, not a phone
		case r == ' ' || r == '.' || r == '-' || r == '(' || r == ')' || r == '/':
		default:
			return "", false
		}
	}
	digits := d.String()
	if len(digits) < 7 || len(digits) > 17 {
		return "", false
	}
	switch {
	case strings.HasPrefix(digits, "840") && len(digits) == 12 && !strings.HasPrefix(digits, "8400"):
		// "+84 0912 345 678": the trunk zero kept after the country code.
		digits = "84" + digits[3:]
		plus = true
	case !plus && strings.HasPrefix(digits, "84") && len(digits) == 11:
		plus = true
	case !plus && strings.HasPrefix(digits, "00"):
		digits, plus = digits[2:], true
	}
	if !plus {
		if phone, ok := vietnameseMobile("0" + strings.TrimPrefix(digits, "0")); ok || digits[0] == '0' {
			return phone, ok
		}
		// A contact card's number comes without its plus ("447911123456").
		plus = true
	}
	n, err := phonenumbers.Parse("+"+digits, "")
	if err != nil || !phonenumbers.IsValidNumber(n) {
		return "", false
	}
	if n.GetCountryCode() == 84 {
		return vietnameseMobile("+" + digits)
	}
	e164 := phonenumbers.Format(n, phonenumbers.E164)
	if len(e164) > 16 {
		// E.164 has at most 15 digits; the library's metadata takes some longer
		// numbers ("+4920100000000000") that no network routes.
		return "", false
	}
	return e164, true
}

// vietnameseMobile checks a Vietnamese number (national or +84) is a valid mobile one.
func vietnameseMobile(s string) (string, bool) {
	n, err := phonenumbers.Parse(s, "VN")
	if err != nil || !phonenumbers.IsValidNumberForRegion(n, "VN") {
		return "", false
	}
	switch phonenumbers.GetNumberType(n) {
	case phonenumbers.MOBILE, phonenumbers.FIXED_LINE_OR_MOBILE:
		return phonenumbers.Format(n, phonenumbers.E164), true
	}
	return "", false
}

// spaceToBlank turns every kind of space (a tab, a non-breaking or thin space, as a
// number copied from a web page or a contact card carries) into a plain one.
func spaceToBlank(r rune) rune {
	if unicode.IsSpace(r) || r == '\u00a0' || r == '\u202f' || r == '\u2007' {
		return ' '
	}
	return r
}

// normalizeEmail checks an address the city can write to: a bare address (no display
// name), one @, a domain with a dot. The domain is lowered; the local part is kept.
func normalizeEmail(s string) (string, bool) {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > 254 || strings.ContainsAny(s, " \t\r\n<>\"") {
		return "", false
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" {
		return "", false
	}
	at := strings.LastIndexByte(s, '@')
	if at <= 0 || strings.Count(s, "@") != 1 {
		return "", false
	}
	domain := strings.ToLower(s[at+1:])
	labels := strings.Split(domain, ".")
	if len(labels) < 2 {
		return "", false
	}
	for _, l := range labels {
		if l == "" || strings.HasPrefix(l, "-") || strings.HasSuffix(l, "-") {
			return "", false
		}
	}
	if tld := labels[len(labels)-1]; runes(tld) < 2 {
		return "", false
	}
	return s[:at+1] + domain, true
}

// validName accepts a person's name: letters (with diacritics), spaces, and the
// apostrophes, hyphens and dots names carry; at least two letters.
func validName(s string) bool {
	if n := runes(s); n < nameMin || n > nameMax {
		return false
	}
	letters := 0
	for _, r := range s {
		switch {
		case unicode.IsLetter(r):
			letters++
		case unicode.Is(unicode.Mn, r), r == ' ', r == '\'', r == '’', r == '-', r == '.':
		default:
			return false
		}
	}
	return letters >= 2
}

// attachmentProblem says why a file cannot be taken: "" when it can, else the id of a
// message ("initiative.attachments.bad_type", "initiative.attachments.too_big",
// "initiative.attachments.bad_size"). Every channel's files come through here.
func attachmentProblem(a bot.Attachment) string {
	switch {
	case a.Size < 0:
		// The sender's word, against the Bot API's schema: never pass it on.
		return "initiative.attachments.bad_size"
	case a.Size > maxAttachmentSize:
		return "initiative.attachments.too_big"
	}
	if _, ok := FileType(a.Kind, a.Name, a.MIME); !ok {
		return "initiative.attachments.bad_type"
	}
	return ""
}

// FileType is the media type a citizen's file is taken, and served, as; ok is false
// for a file the gateway does not take. The name's extension and the declared type are
// both the sender's word, so both must be on the allow-list and name the same kind of
// file: "evil.exe" declared application/pdf and "x.pdf" declared text/html are refused.
// A type that declares nothing ("" or application/octet-stream) leaves the extension to
// decide, a name without an extension leaves the declared type to decide; a file with
// neither is refused, except a photo, which channels re-encode as JPEG. The media proxy
// serves files by the same rule.
func FileType(kind bot.AttachmentKind, name, declared string) (mediaType string, ok bool) {
	mt := baseType(declared)
	if mt == "application/octet-stream" || mt == "binary/octet-stream" {
		mt = ""
	}
	ext := strings.ToLower(path.Ext(strings.TrimSpace(name)))
	if name != "" && ext == "" && strings.HasSuffix(strings.TrimSpace(name), ".") {
		return "", false // "evil.exe." names nothing we can check
	}
	byType, typeKnown := acceptedMIME[mt]
	byExt, extKnown := acceptedExt[ext]
	switch {
	case mt != "" && !typeKnown, ext != "" && !extKnown:
		return "", false
	case mt != "" && ext != "":
		if byType != byExt.kind {
			return "", false
		}
		return mt, true
	case mt != "":
		if kind == bot.Photo && !byType.image() {
			return "", false
		}
		return mt, true
	case ext != "":
		if kind == bot.Photo && !byExt.kind.image() {
			return "", false
		}
		return byExt.mediaType, true
	case kind == bot.Photo:
		return "image/jpeg", true
	}
	return "", false
}

// baseType is a media type without parameters, lowered: "Application/PDF; x=y" → "application/pdf".
func baseType(t string) string {
	return strings.ToLower(strings.TrimSpace(strings.SplitN(t, ";", 2)[0]))
}

// fileKind is one kind of file the city's intake accepts: a declared type and an
// extension agree when they name the same kind.
type fileKind string

func (k fileKind) image() bool { return k == "jpeg" || k == "png" || k == "webp" || k == "heic" }

// extType is what an extension says: its kind, and the type a file known only by its
// name is served as.
type extType struct {
	kind      fileKind
	mediaType string
}

// The allow-list: images, PDF, Word and Excel, what the city's intake accepts.
var acceptedMIME = map[string]fileKind{
	"image/jpeg": "jpeg", "image/png": "png", "image/webp": "webp", "image/heic": "heic", "image/heif": "heic",
	"application/pdf":    "pdf",
	"application/msword": "word",
	"application/vnd.openxmlformats-officedocument.wordprocessingml.document": "word",
	"application/vnd.ms-excel": "excel",
	"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "excel",
}

var acceptedExt = map[string]extType{
	".jpg": {"jpeg", "image/jpeg"}, ".jpeg": {"jpeg", "image/jpeg"}, ".png": {"png", "image/png"},
	".webp": {"webp", "image/webp"}, ".heic": {"heic", "image/heic"}, ".heif": {"heic", "image/heif"},
	".pdf": {"pdf", "application/pdf"},
	".doc": {"word", "application/msword"}, ".docx": {"word", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"},
	".xls": {"excel", "application/vnd.ms-excel"}, ".xlsx": {"excel", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
}
