package bot

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// CannedAnswer is a prepared reply staff pick in the console instead of typing it,
// written once in Vietnamese and optionally in English.
type CannedAnswer struct {
	// ID is a short slug: 1 to 40 of a-z, 0-9 and "-".
	ID    string `json:"id"`
	Title string `json:"title"`
	// Text is the answer by language, "vi" (required) and "en"; it may hold the
	// placeholders of CannedPlaceholders, written {name}.
	Text      map[string]string `json:"text"`
	UpdatedBy string            `json:"updated_by"`
	UpdatedAt time.Time         `json:"updated_at"`
}

// CannedPlaceholders are the placeholders the console fills in a canned answer: the
// citizen's name and the reference code of their submission.
var CannedPlaceholders = []string{"name", "reference"}

// Limits of a canned answer, in characters.
const (
	CannedIDMax    = 40
	CannedTitleMax = 80
	CannedTextMax  = 2000
)

var (
	// ErrUnknownCanned: no canned answer with that id.
	ErrUnknownCanned = errors.New("unknown canned answer")
	// ErrInvalidCanned: a canned answer Validate refuses.
	ErrInvalidCanned = errors.New("invalid canned answer")
)

// Validate checks the id, the title and the texts against the limits above, and that
// the only languages are vi and en. Its errors wrap ErrInvalidCanned.
func (c CannedAnswer) Validate() error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: %s", ErrInvalidCanned, fmt.Sprintf(format, a...))
	}
	if !validCannedID(c.ID) {
		return bad("id %q: want 1 to %d of a-z, 0-9 and -", c.ID, CannedIDMax)
	}
	if err := checkCannedText("title", c.Title, CannedTitleMax); err != nil {
		return bad("%v", err)
	}
	for lang, text := range c.Text {
		switch lang {
		case "vi":
			if err := checkCannedText("vi text", text, CannedTextMax); err != nil {
				return bad("%v", err)
			}
		case "en":
			// Optional: an empty English text falls back to the Vietnamese one.
			if text != "" {
				if err := checkCannedText("en text", text, CannedTextMax); err != nil {
					return bad("%v", err)
				}
			}
		default:
			return bad("language %q: want vi or en", lang)
		}
	}
	if _, ok := c.Text["vi"]; !ok {
		return bad("vi text is required")
	}
	return nil
}

// Render returns the answer in lang ("vi", "en", "en-US"), in Vietnamese when it has
// no text in that language, with each {key} of vars replaced by its value (an empty
// value leaves nothing). A placeholder vars does not name stays as written, so that a
// missing value shows in the console rather than vanishing from the reply.
func (c CannedAnswer) Render(lang string, vars map[string]string) string {
	lang, _, _ = strings.Cut(strings.ToLower(strings.TrimSpace(lang)), "-")
	text := c.Text[lang]
	if strings.TrimSpace(text) == "" {
		text = c.Text["vi"]
	}
	return expandPlaceholders(text, vars)
}

// expandPlaceholders replaces each {key} named in vars in one pass: a value that itself
// holds "{name}" (a citizen may type anything) is not expanded again.
func expandPlaceholders(s string, vars map[string]string) string {
	var b strings.Builder
	for {
		open := strings.IndexByte(s, '{')
		if open < 0 {
			b.WriteString(s)
			return b.String()
		}
		b.WriteString(s[:open])
		s = s[open:]
		end := strings.IndexAny(s[1:], "{}")
		if end >= 0 && s[1+end] == '}' {
			if v, ok := vars[s[1:1+end]]; ok {
				b.WriteString(v)
				s = s[end+2:]
				continue
			}
		}
		b.WriteByte('{')
		s = s[1:]
	}
}

func validCannedID(id string) bool {
	if id == "" || len(id) > CannedIDMax {
		return false
	}
	for _, r := range id {
		if !('a' <= r && r <= 'z' || '0' <= r && r <= '9' || r == '-') {
			return false
		}
	}
	return true
}

func checkCannedText(what, s string, maxLen int) error {
	switch {
	case !utf8.ValidString(s):
		return fmt.Errorf("%s is not valid UTF-8", what)
	case strings.TrimSpace(s) == "":
		return fmt.Errorf("%s is required", what)
	case utf8.RuneCountInString(s) > maxLen:
		return fmt.Errorf("%s is longer than %d characters", what, maxLen)
	}
	return nil
}
