package intake

import (
	"strconv"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"

	"github.com/sangkien/sangkien/bot"
)

// MaxDescription is GeoReport v2's limit on a request's description, in characters.
const MaxDescription = 4000

// labels name the parts of a composed description, in the submission's language.
var labels = map[string]struct{ benefit, rating string }{
	"vi": {"Lợi ích", "Đánh giá"},
	"en": {"Benefit", "Rating"},
}

// Describe composes an Open311 description: for an initiative its title, description
// and benefit ("Lợi ích: …"), for feedback its comment and rating ("Đánh giá: 4/5"),
// parts separated by a blank line, labels in the submission's language, each part plain
// text (PlainText: no HTML, no code marks; line breaks kept). A text longer
// than MaxDescription characters is cut at a word boundary and ends with "…"; the
// whole text stays in the gateway's records.
func Describe(s bot.Submission) string { return describeWithin(s, MaxDescription) }

// describeWithin is Describe cut to limit characters.
func describeWithin(s bot.Submission, limit int) string {
	l, ok := labels[s.Lang]
	if !ok {
		l = labels["vi"]
	}
	var parts []string
	add := func(label, text string) {
		text = PlainText(text)
		if text == "" {
			return
		}
		if label != "" {
			text = label + ": " + text
		}
		parts = append(parts, text)
	}
	add("", s.Title)
	add("", s.Description)
	add(l.benefit, s.Benefit)
	add("", s.Comment)
	if s.Rating > 0 {
		add(l.rating, strconv.Itoa(s.Rating)+"/5")
	}
	if len(parts) == 0 {
		add("", s.Reference) // servers refuse an empty description
	}
	return clipWords(strings.Join(parts, "\n\n"), limit)
}

// clipWords cuts s to at most limit characters, "…" included, at the last space before
// the limit; a text with no space in its second half is cut mid-word.
func clipWords(s string, limit int) string {
	r := []rune(s)
	if len(r) <= limit {
		return s
	}
	r = r[:limit-1]
	cut := len(r)
	for i := len(r) - 1; i >= len(r)/2; i-- {
		if unicode.IsSpace(r[i]) {
			cut = i
			break
		}
	}
	// Drop the space and any punctuation left hanging before the ellipsis.
	return strings.TrimRightFunc(string(r[:cut]), func(c rune) bool {
		return unicode.IsSpace(c) || c == ',' || c == ';' || c == ':'
	}) + "…"
}

// familyNames are the most common Vietnamese family names (họ), which together cover
// most of the population; a name starting with one is in Vietnamese order.
var familyNames = func() map[string]bool {
	m := map[string]bool{}
	for _, n := range strings.Fields("nguyễn trần lê phạm hoàng huỳnh phan vũ võ đặng bùi đỗ hồ ngô dương lý đinh trương mai đoàn lâm trịnh cao lương tạ hà quách") {
		m[n] = true
	}
	return m
}()

// SplitName splits a full name into GeoReport's first_name and last_name. Vietnamese
// names put the family name first: "Nguyễn Thị Lan" is family name "Nguyễn" (last_name)
// and given names "Thị Lan" (first_name, middle name included). A name in a chat held in
// English that does not start with a common Vietnamese family name is taken in Western
// order: "John Smith" → first "John", last "Smith". One word is a first name. Both
// parts come out in Unicode NFC, whatever form the channel sent.
func SplitName(full, lang string) (first, last string) {
	words := strings.Fields(norm.NFC.String(full))
	switch len(words) {
	case 0:
		return "", ""
	case 1:
		return words[0], ""
	}
	if lang == "en" && !familyNames[strings.ToLower(words[0])] {
		return strings.Join(words[:len(words)-1], " "), words[len(words)-1]
	}
	return strings.Join(words[1:], " "), words[0]
}
