package bot_test

import (
	"strings"
	"testing"

	"github.com/sangkien/sangkien/bot"
)

// A broadcast with a personal text names each recipient's draft title in their
// language, taken as it is (a title that looks like a template stays text); a
// recipient with no title gets the plain text; a personal text that has no Vietnamese
// or no place for the title is refused.
func TestBroadcastPersonalText(t *testing.T) {
	b := bot.Broadcast{ID: "rem-p-1d-draft-20261220T1700", Audience: bot.AudienceQuery{Kind: bot.AudienceDraft, Program: "p"},
		Text:     bot.Text{VI: "Sáng kiến của bạn chưa được gửi.", EN: "Your initiative is not sent yet."},
		Personal: bot.Text{VI: "Sáng kiến \"{{.Title}}\" của bạn chưa được gửi.", EN: "Your initiative \"{{.Title}}\" is not sent yet."},
		Button:   &bot.BroadcastButton{Label: bot.Text{VI: "Tiếp tục", EN: "Continue"}, Payload: "cmd:initiative"}}
	if err := b.Validate(); err != nil {
		t.Fatal(err)
	}
	conv := bot.ConversationRef{Channel: bot.Telegram, ID: "42"}
	for _, tc := range []struct {
		lang, title, want string
	}{
		{"vi", "Cây xanh phố Huế", "Sáng kiến \"Cây xanh phố Huế\" của bạn chưa được gửi."},
		{"en", "Trees on Hue street", "Your initiative \"Trees on Hue street\" is not sent yet."},
		{"en", "{{.Title}} {{template}}", "Your initiative \"{{.Title}} {{template}}\" is not sent yet."},
		{"vi", "", "Sáng kiến của bạn chưa được gửi."},
		{"en", "", "Your initiative is not sent yet."},
	} {
		o := b.Message(bot.AudienceMember{Conversation: conv, Lang: tc.lang, DraftTitle: tc.title})
		if o.Reply.Text != tc.want || o.ID != "bc:"+b.ID+":"+conv.Key() || len(o.Reply.Choices) != 1 || o.Reply.Choices[0].Payload != "cmd:initiative" {
			t.Errorf("%s %q: %+v; want the text %q", tc.lang, tc.title, o, tc.want)
		}
	}
	plain := b
	plain.Personal = bot.Text{}
	if o := plain.Message(bot.AudienceMember{Conversation: conv, Lang: "vi", DraftTitle: "Cây xanh"}); o.Reply.Text != b.Text.VI {
		t.Errorf("no personal text: %q, want the plain one", o.Reply.Text)
	}
	for _, p := range []bot.Text{
		{EN: "Your initiative \"{{.Title}}\""},
		{VI: "Sáng kiến của bạn", EN: "Your initiative"},
		{VI: strings.Repeat("á", bot.BroadcastTextMax) + "{{.Title}}"},
	} {
		bad := b
		bad.Personal = p
		if err := bad.Validate(); err == nil {
			t.Errorf("personal text %.40q was taken", p.VI+"|"+p.EN)
		}
	}
}
