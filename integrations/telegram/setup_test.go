package telegram

import (
	"strings"
	"testing"

	"github.com/sangkien/sangkien/bot/bottest"
)

func TestCommandsInBothLanguages(t *testing.T) {
	cat := bottest.Catalog(t)
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
