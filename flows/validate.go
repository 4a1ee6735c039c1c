package flows

import (
	"net/mail"
	"path"
	"strings"
	"unicode"
	"unicode/utf8"

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

// normalizePhone reads a Vietnamese mobile number in any common form ("0912 345 678",
// "091.234.5678", "+84 912 345 678", "(+84)912-345-678", "84912345678") and returns it
// as E.164 ("+84912345678"). Mobile numbers start with 03, 05, 07, 08 or 09.
func normalizePhone(s string) (string, bool) {
	var d strings.Builder
	plus := false
	for _, r := range strings.TrimSpace(s) {
		switch {
		case r >= '0' && r <= '9':
			d.WriteRune(r)
		case r == '+' && d.Len() == 0 && !plus:
			plus = true
		case r == ' ' || r == '.' || r == '-' || r == '(' || r == ')':
		default:
			return "", false
		}
	}
	digits := d.String()
	var national string
	switch {
	case !plus && strings.HasPrefix(digits, "0084") && len(digits) == 13:
		national = digits[4:]
	case !plus && strings.HasPrefix(digits, "0") && len(digits) == 10:
		national = digits[1:]
	case strings.HasPrefix(digits, "840") && len(digits) == 12:
		// "+84 0912 345 678": the trunk zero kept after the country code.
		national = digits[3:]
	case strings.HasPrefix(digits, "84") && len(digits) == 11:
		national = digits[2:]
	default:
		return "", false
	}
	if !strings.ContainsRune("35789", rune(national[0])) {
		return "", false
	}
	return "+84" + national, true
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
// message ("initiative.attachments.bad_type", "initiative.attachments.too_big").
func attachmentProblem(a bot.Attachment) string {
	if a.Size > maxAttachmentSize {
		return "initiative.attachments.too_big"
	}
	mime := strings.ToLower(strings.TrimSpace(strings.SplitN(a.MIME, ";", 2)[0]))
	ext := strings.ToLower(path.Ext(a.Name))
	switch {
	case a.Kind == bot.Photo && (mime == "" || strings.HasPrefix(mime, "image/")):
		// Channels send photos re-encoded as images, often without a MIME type.
		return ""
	case acceptedMIME[mime], acceptedExt[ext]:
		return ""
	}
	return "initiative.attachments.bad_type"
}

// Images, PDF, Word and Excel: what the city's intake accepts.
var acceptedMIME = map[string]bool{
	"image/jpeg": true, "image/png": true, "image/webp": true, "image/heic": true, "image/heif": true,
	"application/pdf":    true,
	"application/msword": true,
	"application/vnd.openxmlformats-officedocument.wordprocessingml.document": true,
	"application/vnd.ms-excel": true,
	"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": true,
}

var acceptedExt = map[string]bool{
	".jpg": true, ".jpeg": true, ".png": true, ".webp": true, ".heic": true, ".heif": true,
	".pdf": true, ".doc": true, ".docx": true, ".xls": true, ".xlsx": true,
}
