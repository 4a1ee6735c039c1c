package bot

import (
	"strings"
	"unicode"
	"unicode/utf16"
)

// SplitText cuts a reply's text into parts a channel accepts: at most limit UTF-16 code
// units each (how Telegram and Zalo count), preferring to cut after a paragraph, then
// after a line or a sentence, then at a space; a single word longer than the limit is
// cut where it must be.
func SplitText(s string, limit int) []string {
	var parts []string
	for UTF16Len(s) > limit {
		head := prefixUTF16(s, limit)
		cut := lastBoundary(head)
		part := strings.TrimRightFunc(s[:cut], unicode.IsSpace)
		if part == "" { // only spaces before the boundary: cut hard
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

// UTF16Len is the length of s in UTF-16 code units.
func UTF16Len(s string) int {
	n := 0
	for _, r := range s {
		n += max(utf16.RuneLen(r), 1)
	}
	return n
}

// lastBoundary is the byte offset in head at which to cut: after the last paragraph
// break, else after the last line break or sentence end, else at the last space, else
// the whole head.
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
