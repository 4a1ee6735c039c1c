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

// clean is how every typed text is taken: valid UTF-8, terminal escape sequences and
// invisible characters removed, NFC (some keyboards send decomposed Vietnamese),
// trimmed, inner whitespace and line breaks kept. What it removes would reach the city's
// systems and staff's screens raw: control characters (but the line break and the
// tab), ESC and CSI sequences that recolour or clear a terminal, bidi overrides that
// make "exe.pdf" read backwards, zero-width and other format characters that hide text
// or defeat a search. An emoji's zero-width joiner (👨‍👩‍👧) stays.
func clean(s string) string {
	s = stripEscapes(strings.ToValidUTF8(s, ""))
	rs := []rune(strings.ReplaceAll(s, "\r\n", "\n"))
	var b strings.Builder
	b.Grow(len(s))
	for i, r := range rs {
		switch {
		case r == '\n' || r == '\t':
			b.WriteRune(r)
		case r == '\r':
			b.WriteRune('\n')
		case r == zwj:
			if i > 0 && i+1 < len(rs) && emojiPart(rs[i-1]) && emojiPart(rs[i+1]) {
				b.WriteRune(r)
			}
		case unicode.IsControl(r), unicode.Is(unicode.Cf, r) && !isTag(r):
			// dropped: C0/C1 controls, bidi marks and overrides, zero-width spaces, BOM
		default:
			b.WriteRune(r)
		}
	}
	return strings.TrimSpace(norm.NFC.String(b.String()))
}

const zwj = '\u200d'

// emojiPart is a rune an emoji sequence joins with ZWJ: a pictograph, a variation
// selector or a skin tone (So covers the pictographs, Sk the skin-tone modifiers).
func emojiPart(r rune) bool {
	return unicode.Is(unicode.So, r) || unicode.Is(unicode.Sk, r) || r == '\ufe0f'
}

// isTag is a tag character: invisible alone, but part of a subdivision flag (🏴 + tags).
func isTag(r rune) bool { return r >= 0xE0020 && r <= 0xE007F }

// stripEscapes removes terminal escape sequences: CSI (ESC [ … final, or U+009B),
// OSC (ESC ] … BEL or ESC \\) and two-character ESC sequences.
func stripEscapes(s string) string {
	if !strings.ContainsAny(s, "\x1b\u009b") {
		return s
	}
	var b strings.Builder
	rs := []rune(s)
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		switch {
		case r == '\u009b' || r == '\x1b' && i+1 < len(rs) && rs[i+1] == '[':
			if r == '\x1b' {
				i++
			}
			// parameters and intermediates, then one final byte @–~
			for i+1 < len(rs) && rs[i+1] >= 0x20 && rs[i+1] <= 0x3f {
				i++
			}
			for i+1 < len(rs) && rs[i+1] >= 0x20 && rs[i+1] <= 0x2f {
				i++
			}
			if i+1 < len(rs) && rs[i+1] >= 0x40 && rs[i+1] <= 0x7e {
				i++
			}
		case r == '\x1b' && i+1 < len(rs) && rs[i+1] == ']':
			i++
			for i+1 < len(rs) && rs[i+1] != '\a' && !(rs[i+1] == '\x1b' && i+2 < len(rs) && rs[i+2] == '\\') {
				i++
			}
			switch {
			case i+1 < len(rs) && rs[i+1] == '\a':
				i++
			case i+2 < len(rs):
				i += 2
			}
		case r == '\x1b':
			if i+1 < len(rs) {
				i++ // ESC and the one character it introduces
			}
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
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
