package terminal

import (
	"fmt"
	"io"
	"strings"

	"github.com/sangkien/sangkien/bot"
	"github.com/sangkien/sangkien/locales"
)

// Draw draws a reply: its text, then its choices as numbered lines, then, for a request
// of a contact or a location, the line to type instead, in l's language.
func Draw(w io.Writer, r bot.Reply, l *locales.Localizer) {
	fmt.Fprintln(w)
	for i, line := range strings.Split(strings.TrimRight(r.Text, "\n"), "\n") {
		switch {
		case i == 0:
			fmt.Fprintln(w, "🤖 "+line)
		case line == "":
			fmt.Fprintln(w)
		default:
			fmt.Fprintln(w, "   "+line)
		}
	}
	for i, c := range r.Choices {
		fmt.Fprintf(w, "  %d. %s\n", i+1, c.Label)
	}
	switch r.Request {
	case bot.RequestContact:
		fmt.Fprintln(w, "  "+l.T("terminal.contact_hint"))
	case bot.RequestLocation:
		fmt.Fprintln(w, "  "+l.T("terminal.location_hint"))
	}
}
