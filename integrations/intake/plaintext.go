package intake

import (
	"html"
	"regexp"
	"strings"
)

// GeoReport v2 says a description "may contain line breaks, but not html or code", and
// strict servers refuse one that does. A citizen who pastes "<b>Budget</b>" from a web
// page means "Budget".
var (
	// Elements whose content is not text at all.
	htmlCodeBlock = regexp.MustCompile(`(?is)<(script|style)\b[^>]*>.*?</(script|style)\s*>`)
	htmlComment   = regexp.MustCompile(`(?s)<!--.*?-->`)
	// Tags that end a line on a page.
	htmlBreak = regexp.MustCompile(`(?i)<br\s*/?>|</(p|div|li|h[1-6]|tr|blockquote|pre)\s*>`)
	// Any other tag, declaration or processing instruction: a "<" right before a letter,
	// "/", "!" or "?", as browsers read it. "a < b" and "<3" are text and stay.
	htmlTag = regexp.MustCompile(`</?[a-zA-Z][a-zA-Z0-9:-]*(\s[^<>]*)?/?\s*>|<[!?][^<>]*>`)
	// Markdown code fences and inline code marks.
	codeFence = regexp.MustCompile("(?m)^[ \t]*```[^\n]*\n?")
	// Runs of blank lines, after trailing spaces are gone.
	blankRun = regexp.MustCompile(`\n{3,}`)
)

// PlainText turns a citizen's text into what a GeoReport description may hold: HTML tags
// and comments go (a <br> or the end of a paragraph becomes a line break), script and
// style elements go whole, entities are decoded (and any markup they spelled goes in
// turn), Markdown code marks go. Line breaks, Vietnamese and emoji stay.
func PlainText(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	// Decoding entities may reveal markup ("&lt;b&gt;"): strip until nothing changes,
	// a few rounds at most.
	for range 3 {
		before := s
		s = stripMarkup(s)
		s = html.UnescapeString(s)
		if s == before {
			break
		}
	}
	s = stripMarkup(s)
	s = codeFence.ReplaceAllString(s, "")
	s = strings.ReplaceAll(s, "`", "")
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " \t")
	}
	s = blankRun.ReplaceAllString(strings.Join(lines, "\n"), "\n\n")
	return strings.TrimSpace(s)
}

func stripMarkup(s string) string {
	s = htmlCodeBlock.ReplaceAllString(s, "")
	s = htmlComment.ReplaceAllString(s, "")
	s = htmlBreak.ReplaceAllString(s, "\n")
	return htmlTag.ReplaceAllString(s, "")
}
