package terminal

import (
	"fmt"
	"io"
	"strings"

	"github.com/sangkien/sangkien/bot"
)

// Draw draws a reply: its text, then its choices as numbered lines.
func Draw(w io.Writer, r bot.Reply) {
	fmt.Fprintln(w)
	for i, l := range strings.Split(strings.TrimRight(r.Text, "\n"), "\n") {
		switch {
		case i == 0:
			fmt.Fprintln(w, "🤖 "+l)
		case l == "":
			fmt.Fprintln(w)
		default:
			fmt.Fprintln(w, "   "+l)
		}
	}
	for i, c := range r.Choices {
		fmt.Fprintf(w, "  %d. %s\n", i+1, c.Label)
	}
	switch r.Request {
	case bot.RequestContact:
		fmt.Fprintln(w, "  [:contact <tên/name> <số/phone>]")
	case bot.RequestLocation:
		fmt.Fprintln(w, "  [:location <lat> <lon>]")
	}
}
