package telegram

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/sangkien/sangkien/bot"
)

var lan = bot.ConversationRef{Channel: bot.Telegram, ID: "987654321"}

func at(sec int64) time.Time { return time.Unix(sec, 0).UTC() }

func TestParse(t *testing.T) {
	tests := []struct {
		file string
		want []bot.Event
	}{
		{"text.json", []bot.Event{{ID: "700000001", Conversation: lan, Lang: "vi", Kind: bot.EventText,
			Text: "Nên trồng thêm cây xanh trên phố Trần Hưng Đạo", At: at(1764316800)}}},
		{"start_payload.json", []bot.Event{{ID: "700000002", Conversation: lan, Lang: "en", Kind: bot.EventCommand,
			Command: "start", Payload: "prog_green-2025", At: at(1764316801)}}},
		{"help_botname.json", []bot.Event{{ID: "700000003", Conversation: lan, Lang: "vi", Kind: bot.EventCommand,
			Command: "help", At: at(1764316802)}}},
		{"callback_query.json", []bot.Event{{ID: "700000004", Conversation: lan, Lang: "vi", Kind: bot.EventButton,
			Payload: "menu:propose"}}},
		{"contact_own.json", []bot.Event{{ID: "700000005", Conversation: lan, Lang: "vi", Kind: bot.EventContact,
			Contact: &bot.Contact{Name: "Lan Nguyễn", Phone: "84912345678", Own: true}, At: at(1764316804)}}},
		{"contact_other.json", []bot.Event{{ID: "700000006", Conversation: lan, Lang: "vi", Kind: bot.EventContact,
			Contact: &bot.Contact{Name: "Minh Trần", Phone: "+84987000111", Own: false}, At: at(1764316805)}}},
		{"location.json", []bot.Event{{ID: "700000007", Conversation: lan, Lang: "vi", Kind: bot.EventLocation,
			Location: &bot.Location{Lat: 21.028511, Lon: 105.804817}, At: at(1764316806)}}},
		{"venue.json", []bot.Event{{ID: "700000008", Conversation: lan, Lang: "vi", Kind: bot.EventLocation,
			Location: &bot.Location{Lat: 21.035, Lon: 105.8342, Label: "Hồ Hoàn Kiếm, Đinh Tiên Hoàng, Hoàn Kiếm, Hà Nội"}, At: at(1764316807)}}},
		{"photo.json", []bot.Event{{ID: "700000009", Conversation: lan, Lang: "vi", Kind: bot.EventAttachments,
			Text: "Ổ gà trên đường Láng", At: at(1764316808), Attachments: []bot.Attachment{{Kind: bot.Photo,
				Ref: "AgACAgUAAxkBAAIBp_large", MIME: "image/jpeg", Size: 98321, Caption: "Ổ gà trên đường Láng"}}}}},
		{"document_caption.json", []bot.Event{{ID: "700000010", Conversation: lan, Lang: "vi", Kind: bot.EventAttachments,
			Text: "Bản đề xuất chi tiết", At: at(1764316809), Attachments: []bot.Attachment{{Kind: bot.Document,
				Ref: "BQACAgUAAxkBAAIBq_doc", MIME: "application/pdf", Size: 254873, Name: "de-xuat.pdf", Caption: "Bản đề xuất chi tiết"}}}}},
		{"album_part2.json", []bot.Event{{ID: "700000013", Conversation: lan, Lang: "vi", Kind: bot.EventAttachments,
			At: at(1764316810), Attachments: []bot.Attachment{{Kind: bot.Photo, Ref: "album2_large", MIME: "image/jpeg", Size: 80002}}}}},
		{"voice.json", []bot.Event{unsupported("700000020", "voice", 1764316820)}},
		{"video.json", []bot.Event{unsupported("700000021", "video", 1764316821)}},
		{"sticker.json", []bot.Event{unsupported("700000022", "sticker", 1764316822)}},
		{"edited_message.json", nil},
		{"my_chat_member_kicked.json", []bot.Event{{ID: "700000024", Conversation: lan, Lang: "vi", Kind: bot.EventUnfollow, At: at(1764317000)}}},
		{"my_chat_member_member.json", []bot.Event{{ID: "700000025", Conversation: lan, Lang: "vi", Kind: bot.EventFollow, At: at(1764317100)}}},
		{"group_message.json", nil},
		{"unknown_chat_join_request.json", nil},
		{"unknown_message_reaction.json", nil},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			var u tgbotapi.Update
			if err := json.Unmarshal(readTestdata(t, tt.file), &u); err != nil {
				t.Fatal(err)
			}
			got, err := Parse(u)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Parse:\n got %s\nwant %s", dump(got), dump(tt.want))
			}
			for _, ev := range got {
				if err := ev.Validate(); err != nil {
					t.Errorf("event does not validate: %v", err)
				}
			}
		})
	}
}

func unsupported(id, kind string, date int64) bot.Event {
	return bot.Event{ID: id, Conversation: lan, Lang: "vi", Kind: bot.EventUnsupported, Unsupported: kind, At: at(date)}
}

func dump(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// TestParseShapes covers update shapes built in code: kinds without a testdata file and
// the odd corners of commands.
func TestParseShapes(t *testing.T) {
	private := &tgbotapi.Chat{ID: 42, Type: "private"}
	msg := func(m tgbotapi.Message) tgbotapi.Update {
		m.Chat = private
		return tgbotapi.Update{UpdateID: 9, Message: &m}
	}
	tests := []struct {
		name    string
		u       tgbotapi.Update
		kind    bot.EventKind
		detail  string // Unsupported, Command or Text, whichever the kind uses
		payload string
		skip    string
	}{
		{"audio", msg(tgbotapi.Message{Audio: &tgbotapi.Audio{FileID: "a"}}), bot.EventUnsupported, "audio", "", ""},
		{"video note", msg(tgbotapi.Message{VideoNote: &tgbotapi.VideoNote{FileID: "v"}}), bot.EventUnsupported, "video_note", "", ""},
		{"animation with its document", msg(tgbotapi.Message{Animation: &tgbotapi.Animation{FileID: "g"}, Document: &tgbotapi.Document{FileID: "g"}}), bot.EventUnsupported, "animation", "", ""},
		{"dice", msg(tgbotapi.Message{Dice: &tgbotapi.Dice{Emoji: "🎲", Value: 3}}), bot.EventUnsupported, "dice", "", ""},
		{"poll", msg(tgbotapi.Message{Poll: &tgbotapi.Poll{ID: "p"}}), bot.EventUnsupported, "poll", "", ""},
		{"game", msg(tgbotapi.Message{Game: &tgbotapi.Game{Title: "g"}}), bot.EventUnsupported, "game", "", ""},
		{"invoice", msg(tgbotapi.Message{Invoice: &tgbotapi.Invoice{Title: "i"}}), bot.EventUnsupported, "invoice", "", ""},
		{"content newer than the library", msg(tgbotapi.Message{}), bot.EventUnsupported, "other", "", ""},
		{"service message", msg(tgbotapi.Message{MessageAutoDeleteTimerChanged: &tgbotapi.MessageAutoDeleteTimerChanged{}}), "", "", "", "service message"},
		{"command with newline payload", msg(tgbotapi.Message{Text: "/start\nabc def"}), bot.EventCommand, "start", "abc def", ""},
		{"slash alone is text", msg(tgbotapi.Message{Text: "/"}), bot.EventText, "/", "", ""},
		{"path is text", msg(tgbotapi.Message{Text: "/đường/phố"}), bot.EventText, "/đường/phố", "", ""},
		{"group service message", tgbotapi.Update{UpdateID: 9, Message: &tgbotapi.Message{Chat: &tgbotapi.Chat{ID: -5, Type: "group"}, NewChatTitle: "x"}}, "", "", "", "group service message"},
		{"channel post", tgbotapi.Update{UpdateID: 9, ChannelPost: &tgbotapi.Message{Chat: &tgbotapi.Chat{ID: -7, Type: "channel"}, Text: "hi"}}, "", "", "", "channel post"},
		{"group button", tgbotapi.Update{UpdateID: 9, CallbackQuery: &tgbotapi.CallbackQuery{ID: "q", Data: "x", Message: &tgbotapi.Message{Chat: &tgbotapi.Chat{ID: -5, Type: "group"}}}}, "", "", "", "group button"},
		{"inline message button", tgbotapi.Update{UpdateID: 9, CallbackQuery: &tgbotapi.CallbackQuery{ID: "q", Data: "x", From: &tgbotapi.User{ID: 42}, InlineMessageID: "im"}}, bot.EventButton, "", "x", ""},
		{"group membership", tgbotapi.Update{UpdateID: 9, MyChatMember: &tgbotapi.ChatMemberUpdated{Chat: tgbotapi.Chat{ID: -5, Type: "group"}}}, "", "", "", "group membership"},
		{"membership left", tgbotapi.Update{UpdateID: 9, MyChatMember: &tgbotapi.ChatMemberUpdated{Chat: *private, NewChatMember: tgbotapi.ChatMember{Status: "left"}}}, "", "", "", "membership left"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := parse(tt.u)
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			if p.skip != tt.skip {
				t.Fatalf("skip = %q, want %q", p.skip, tt.skip)
			}
			if tt.skip != "" {
				if len(p.events) != 0 {
					t.Fatalf("skipped update gave events %s", dump(p.events))
				}
				return
			}
			if len(p.events) != 1 {
				t.Fatalf("events = %s, want one", dump(p.events))
			}
			ev := p.events[0]
			detail := map[bot.EventKind]string{bot.EventUnsupported: ev.Unsupported, bot.EventCommand: ev.Command, bot.EventText: ev.Text, bot.EventButton: ""}[ev.Kind]
			if ev.Kind != tt.kind || detail != tt.detail || ev.Payload != tt.payload {
				t.Errorf("got kind %q detail %q payload %q, want %q %q %q", ev.Kind, detail, ev.Payload, tt.kind, tt.detail, tt.payload)
			}
		})
	}
}

func TestParseRejectsImpossibleUpdates(t *testing.T) {
	for name, u := range map[string]tgbotapi.Update{
		"message without chat":  {UpdateID: 1, Message: &tgbotapi.Message{Text: "hi"}},
		"button without anyone": {UpdateID: 2, CallbackQuery: &tgbotapi.CallbackQuery{ID: "q"}},
	} {
		if _, err := Parse(u); err == nil {
			t.Errorf("%s: Parse gave no error", name)
		}
	}
}

func TestMaskChat(t *testing.T) {
	for in, want := range map[string]string{"987654321": "tg:98***21", "-1001987654321": "tg:-1***21", "123": "tg:***"} {
		if got := maskChat(in); got != want {
			t.Errorf("maskChat(%q) = %q, want %q", in, got, want)
		}
	}
}
