package zalo

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf16"

	"github.com/sangkien/sangkien/bot"
)

// maxText is the OA API's limit for one text message. It is counted here in UTF-16 code
// units, which is never less than Zalo's own count in characters.
const maxText = 2000

// render draws a reply as the texts of one or more messages: the text, a line for a
// contact request, then the choices numbered from 1.
func render(r bot.Reply, lang string) []string {
	var b strings.Builder
	b.WriteString(strings.TrimSpace(r.Text))
	if r.Request == bot.RequestContact {
		b.WriteString("\n" + text(lang, "zalo.type_phone"))
	}
	if len(r.Choices) > 0 {
		b.WriteString("\n")
		for i, ch := range r.Choices {
			b.WriteString("\n" + strconv.Itoa(i+1) + ". " + ch.Label)
		}
	}
	return splitText(b.String(), maxText)
}

// splitText cuts s into parts of at most limit UTF-16 code units, preferring to cut
// after a paragraph, then after a line or sentence, then at a space; a single word
// longer than the limit is cut where it must be.
func splitText(s string, limit int) []string {
	var parts []string
	for utf16Len(s) > limit {
		head := prefixUTF16(s, limit)
		cut := lastBoundary(head)
		part := strings.TrimRightFunc(s[:cut], unicode.IsSpace)
		if part == "" {
			part, cut = head, len(head)
		}
		parts = append(parts, part)
		s = strings.TrimLeftFunc(s[cut:], unicode.IsSpace)
	}
	if s != "" || len(parts) == 0 {
		parts = append(parts, s)
	}
	return parts
}

// lastBoundary is the byte offset in head at which to cut.
func lastBoundary(head string) int {
	if i := strings.LastIndex(head, "\n\n"); i > 0 {
		return i + 2
	}
	best := 0
	if i := strings.LastIndex(head, "\n"); i > 0 {
		best = i + 1
	}
	for _, end := range []string{". ", "! ", "? ", "… "} {
		if i := strings.LastIndex(head, end); i > 0 && i+len(end) > best {
			best = i + len(end)
		}
	}
	if best > 0 {
		return best
	}
	if i := strings.LastIndexFunc(head, unicode.IsSpace); i > 0 {
		return i + 1
	}
	return len(head)
}

// prefixUTF16 is the longest prefix of s of at most n UTF-16 code units.
func prefixUTF16(s string, n int) string {
	units := 0
	for i, r := range s {
		w := max(utf16.RuneLen(r), 1)
		if units+w > n {
			return s[:i]
		}
		units += w
	}
	return s
}

func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n += max(utf16.RuneLen(r), 1)
	}
	return n
}
