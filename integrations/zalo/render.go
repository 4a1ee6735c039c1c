package zalo

import (
	"strconv"
	"strings"

	"github.com/sangkien/sangkien/bot"
)

// maxText is the OA API's limit for one text message. It is counted here in UTF-16 code
// units, which is never less than Zalo's own count in characters.
const maxText = 2000

// render draws a reply as the texts of one or more messages: the text, a line for a
// contact request, then the choices numbered from 1.
func (t texts) render(r bot.Reply, lang string) []string {
	var b strings.Builder
	b.WriteString(strings.TrimSpace(r.Text))
	if r.Request == bot.RequestContact {
		b.WriteString("\n" + t.text(lang, "zalo.type_phone"))
	}
	if len(r.Choices) > 0 {
		b.WriteString("\n")
		for i, ch := range r.Choices {
			b.WriteString("\n" + strconv.Itoa(i+1) + ". " + ch.Label)
		}
	}
	return bot.SplitText(b.String(), maxText)
}
