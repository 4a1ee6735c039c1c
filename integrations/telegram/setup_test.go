package telegram

import (
	"strings"
	"testing"

	"github.com/sangkien/sangkien/locales"
)

func TestCommandsInBothLanguages(t *testing.T) {
	cat, err := locales.New()
	if err != nil {
		t.Fatal(err)
	}
	cmds := Commands(cat)
	if len(cmds[""]) == 0 || len(cmds[""]) != len(cmds["en"]) {
		t.Fatalf("commands = %v", cmds)
	}
	for i, c := range cmds[""] {
		if c.Description == cmds["en"][i].Description || strings.HasPrefix(c.Description, "[") {
			t.Errorf("/%s: vi %q, en %q", c.Command, c.Description, cmds["en"][i].Description)
		}
	}
}
