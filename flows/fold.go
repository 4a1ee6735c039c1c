package flows

import (
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// fold reduces a message to what keyword and label matching compare: lower case,
// Vietnamese diacritics removed (đ → d), every run of punctuation, symbols and spaces
// turned into one space, trimmed. "  Quay LẠI! " and "quay lai" fold alike.
func fold(s string) string {
	return collapse(norm.NFD.String(strings.ToLower(s)), true)
}

// lower is fold without removing diacritics: "Hủy!" → "hủy". Keywords typed with
// diacritics must match with them, so that the name "Dũng" is not the command "dừng".
func lower(s string) string {
	return norm.NFC.String(collapse(norm.NFD.String(strings.ToLower(s)), false))
}

func collapse(decomposed string, stripMarks bool) string {
	var b strings.Builder
	space := false
	for _, r := range decomposed {
		switch {
		case unicode.Is(unicode.Mn, r):
			if !stripMarks {
				b.WriteRune(r)
			}
			continue
		case r == 'đ' && stripMarks:
			r = 'd'
		case !unicode.IsLetter(r) && !unicode.IsDigit(r):
			space = b.Len() > 0
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(r)
	}
	return b.String()
}

// isASCII reports whether s has no diacritics or other non-ASCII letters.
func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// clean is how every typed text is taken: NFC (some keyboards send decomposed
// Vietnamese), trimmed, inner whitespace kept.
func clean(s string) string {
	return strings.TrimSpace(norm.NFC.String(s))
}

// singleLine turns line breaks and tabs into spaces, for titles.
func singleLine(s string) string {
	return strings.TrimSpace(strings.Map(func(r rune) rune {
		if r == '\n' || r == '\r' || r == '\t' || r == '\v' || r == '\f' {
			return ' '
		}
		return r
	}, s))
}
