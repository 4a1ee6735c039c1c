package telegram

import (
	"errors"
	"reflect"
	"testing"
	"time"

	json "github.com/go-json-experiment/json/v1"

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
		// Telegram's own first webhook example: a chat without "type", whose id is the sender's.
		{"docs_chat_without_type.json", []bot.Event{{ID: "700000030", Conversation: lan, Kind: bot.EventCommand,
			Command: "start", At: at(1764317300)}}},
		{"group_without_type.json", nil},
		{"docs_inline_query.json", nil},
		{"docs_chosen_inline_result.json", nil},
		{"docs_callback_inline_message.json", []bot.Event{{ID: "700000036", Conversation: lan, Kind: bot.EventButton,
			Payload: "menu:feedback"}}},
		{"text_unused_fields_odd.json", []bot.Event{{ID: "700000037", Conversation: lan, Lang: "vi", Kind: bot.EventText,
			Text: "Đèn đường ở ngõ 12 bị hỏng", At: at(1764317304)}}},
		// Name, type and size are passed on as sent: the flow's step refuses them.
		{"document_negative_size.json", []bot.Event{{ID: "700000038", Conversation: lan, Lang: "vi", Kind: bot.EventAttachments,
			At: at(1764317305), Attachments: []bot.Attachment{{Kind: bot.Document, Ref: "BQACAgUAAxkBAAIBr_neg",
				MIME: "application/pdf", Size: -1, Name: "ke-hoach.pdf"}}}}},
		{"document_exe_as_pdf.json", []bot.Event{{ID: "700000039", Conversation: lan, Lang: "vi", Kind: bot.EventAttachments,
			At: at(1764317339), Attachments: []bot.Attachment{{Kind: bot.Document, Ref: "BQACAgUAAxkBAAIBs_39",
				MIME: "application/pdf", Size: 536392, Name: "evil.exe"}}}}},
		{"document_pdf_as_html.json", []bot.Event{{ID: "700000040", Conversation: lan, Lang: "vi", Kind: bot.EventAttachments,
			At: at(1764317340), Attachments: []bot.Attachment{{Kind: bot.Document, Ref: "BQACAgUAAxkBAAIBs_40",
				MIME: "text/html", Size: 536392, Name: "x.pdf"}}}}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			got, err := Parse(mustUpdate(t, tt.file))
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

// TestParseShapes covers update shapes written in the test: kinds without a testdata
// file and the odd corners of commands and chats.
func TestParseShapes(t *testing.T) {
	msg := func(fields string) string {
		return `{"update_id":9,"message":{"message_id":1,"date":1,"from":{"id":42},"chat":{"id":42,"type":"private"},` + fields + `}}`
	}
	tests := []struct {
		name    string
		u       string
		kind    bot.EventKind
		detail  string // Unsupported, Command or Text, whichever the kind uses
		payload string
		skip    string
		group   bool // a group message, which gets the notice
	}{
		{name: "audio", u: msg(`"audio":{"file_id":"a","duration":3}`), kind: bot.EventUnsupported, detail: "audio"},
		{name: "video note", u: msg(`"video_note":{"file_id":"v"}`), kind: bot.EventUnsupported, detail: "video_note"},
		{name: "animation with its document", u: msg(`"animation":{"file_id":"g"},"document":{"file_id":"g"}`), kind: bot.EventUnsupported, detail: "animation"},
		{name: "dice", u: msg(`"dice":{"emoji":"🎲","value":3}`), kind: bot.EventUnsupported, detail: "dice"},
		{name: "poll", u: msg(`"poll":{"id":"p"}`), kind: bot.EventUnsupported, detail: "poll"},
		{name: "game", u: msg(`"game":{"title":"g"}`), kind: bot.EventUnsupported, detail: "game"},
		{name: "invoice", u: msg(`"invoice":{"title":"i"}`), kind: bot.EventUnsupported, detail: "invoice"},
		{name: "content without a name here", u: msg(`"story":{"id":5}`), kind: bot.EventUnsupported, detail: "other"},
		{name: "service message", u: msg(`"message_auto_delete_timer_changed":{"message_auto_delete_time":86400}`), skip: "service message"},
		{name: "forum topic service message", u: msg(`"forum_topic_created":{"name":"x","icon_color":1}`), skip: "service message"},
		{name: "command with newline payload", u: msg(`"text":"/start\nabc def"`), kind: bot.EventCommand, detail: "start", payload: "abc def"},
		{name: "slash alone is text", u: msg(`"text":"/"`), kind: bot.EventText, detail: "/"},
		{name: "path is text", u: msg(`"text":"/đường/phố"`), kind: bot.EventText, detail: "/đường/phố"},
		{name: "null kinds are absent", u: `{"update_id":9,"message":null,"edited_message":{"message_id":1}}`, skip: "edited_message"},
		{name: "group service message", u: `{"update_id":9,"message":{"chat":{"id":-5,"type":"group"},"new_chat_title":"x"}}`, skip: "group service message"},
		{name: "group message", u: `{"update_id":9,"message":{"message_id":3,"from":{"id":42},"chat":{"id":-5,"type":"group"},"text":"hi"}}`, group: true},
		{name: "group without type, by its negative id", u: `{"update_id":9,"message":{"message_id":3,"from":{"id":42},"chat":{"id":-5},"text":"hi"}}`, group: true},
		{name: "private without type, by the sender's id", u: `{"update_id":9,"message":{"message_id":3,"from":{"id":42},"chat":{"id":42},"text":"hi"}}`, kind: bot.EventText, detail: "hi"},
		{name: "channel post", u: `{"update_id":9,"channel_post":{"chat":{"id":-7,"type":"channel"},"text":"hi"}}`, skip: "channel post"},
		{name: "group button", u: `{"update_id":9,"callback_query":{"id":"q","data":"x","from":{"id":42},"message":{"message_id":1,"chat":{"id":-5,"type":"group"}}}}`, skip: "group button"},
		{name: "group button without type", u: `{"update_id":9,"callback_query":{"id":"q","data":"x","from":{"id":42},"message":{"message_id":1,"chat":{"id":-5}}}}`, skip: "group button"},
		{name: "private button without type", u: `{"update_id":9,"callback_query":{"id":"q","data":"x","from":{"id":42},"message":{"message_id":1,"chat":{"id":42}}}}`, kind: bot.EventButton, payload: "x"},
		{name: "button on a pressed message whose content is odd", u: `{"update_id":9,"callback_query":{"id":"q","data":"x","from":{"id":42},"message":{"message_id":1,"chat":{"id":42,"type":"private"},"photo":"none","text":7}}}`, kind: bot.EventButton, payload: "x"},
		{name: "inline message button", u: `{"update_id":9,"callback_query":{"id":"q","data":"x","from":{"id":42},"inline_message_id":"im"}}`, kind: bot.EventButton, payload: "x"},
		{name: "group membership", u: `{"update_id":9,"my_chat_member":{"chat":{"id":-5,"type":"group"},"from":{"id":42},"new_chat_member":{"status":"member"}}}`, skip: "group membership"},
		{name: "membership left", u: `{"update_id":9,"my_chat_member":{"chat":{"id":42,"type":"private"},"from":{"id":42},"new_chat_member":{"status":"left"}}}`, skip: "membership left"},
		{name: "inline query with a numeric id", u: `{"update_id":9,"inline_query":{"id":134567890097,"from":{"id":42},"query":"q","offset":""}}`, skip: "unknown update"},
		{name: "a text of a wrong type is content without a name", u: msg(`"text":5`), kind: bot.EventUnsupported, detail: "other"},
		{name: "a language of a wrong type is left out", u: `{"update_id":9,"message":{"message_id":3,"from":{"id":42,"language_code":84},"chat":{"id":42,"type":"private"},"text":"hi"}}`, kind: bot.EventText, detail: "hi"},
		{name: "a button's data of a wrong type", u: `{"update_id":9,"callback_query":{"id":"q","data":7,"from":{"id":42},"message":{"message_id":1,"chat":{"id":42,"type":"private"}}}}`, kind: bot.EventButton},
		{name: "unknown kind of a wrong type", u: `{"update_id":9,"business_message":"text"}`, skip: "unknown update"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := parse([]byte(tt.u))
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			if p.skip != tt.skip {
				t.Fatalf("skip = %q, want %q", p.skip, tt.skip)
			}
			if (p.group != nil) != tt.group {
				t.Fatalf("group = %t, want %t", p.group != nil, tt.group)
			}
			if tt.skip != "" || tt.group {
				if len(p.events) != 0 {
					t.Fatalf("update gave events %s", dump(p.events))
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
			if ev.Conversation != (bot.ConversationRef{Channel: bot.Telegram, ID: "42"}) {
				t.Errorf("conversation %v, want the sender's chat 42", ev.Conversation)
			}
		})
	}
}

// Updates that cannot be used are errors: nothing is run and nothing is sent for them.
func TestParseRejectsUnusableUpdates(t *testing.T) {
	for name, u := range map[string]string{
		"message without chat":           `{"update_id":1,"message":{"message_id":1,"from":{"id":42},"text":"hi"}}`,
		"chat id 0":                      `{"update_id":1,"message":{"message_id":1,"from":{"id":42},"chat":{"id":0,"type":"private"},"text":"hi"}}`,
		"chat without type nor id":       `{"update_id":1,"message":{"message_id":1,"from":{"id":42},"chat":{},"text":"hi"}}`,
		"typeless chat not the sender's": `{"update_id":1,"message":{"message_id":1,"from":{"id":42},"chat":{"id":43},"text":"hi"}}`,
		"typeless chat without sender":   `{"update_id":1,"message":{"message_id":1,"chat":{"id":43},"text":"hi"}}`,
		"button without anyone":          `{"update_id":2,"callback_query":{"id":"q"}}`,
		"button in chat 0":               `{"update_id":2,"callback_query":{"id":"q","from":{"id":42},"message":{"message_id":1,"chat":{"id":0}}}}`,
		"membership of chat 0":           `{"update_id":3,"my_chat_member":{"chat":{"id":0,"type":"private"},"from":{"id":42},"new_chat_member":{"status":"member"}}}`,
		"no update_id":                   `{"message":{"message_id":1,"from":{"id":42},"chat":{"id":42,"type":"private"},"text":"hi"}}`,
		"update_id a string":             `{"update_id":"one"}`,
		"not an object":                  `[1,2,3]`,
		"chat id of a wrong type":        `{"update_id":4,"message":{"message_id":1,"from":{"id":42},"chat":{"id":"42","type":"private"},"text":"hi"}}`,
	} {
		if evs, err := Parse([]byte(u)); !errors.Is(err, errUnusable) || len(evs) != 0 {
			t.Errorf("%s: Parse = %s, %v; want no events and an unusable update", name, dump(evs), err)
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
