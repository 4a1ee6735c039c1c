package telegram

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	json "github.com/go-json-experiment/json/v1"

	"github.com/sangkien/sangkien/bot"
)

// Parse turns one update, as Telegram sent it, into the events the engine runs. It is
// pure: the side effects an update also asks for (answering a button press, a
// group-chat notice, gathering an album) are the webhook's. An update the gateway does
// not use gives no events and no error; one it cannot use (no readable update_id, a
// message without a chat, a chat id of 0 or unreadable) is an error wrapping
// errUnusable. A field it reads but finds of another type is left empty (see
// update.go). body must be valid JSON.
func Parse(body []byte) ([]bot.Event, error) {
	p, err := parse(body)
	return p.events, err
}

// parsed is what one update means to the webhook.
type parsed struct {
	id     int64
	events []bot.Event
	// skip says why an update gives no events ("edited_message", "unknown update").
	skip string
	// group is set for a message in a group chat, which gets one notice.
	group *message
	// callback is set for a button press, answered after the engine ran it.
	callback *callbackQuery
	// album is the media_group_id of a photo or document that is part of an album.
	album string
	// note names a field of an unexpected type, left empty.
	note string
}

func parse(body []byte) (parsed, error) {
	u, err := decodeUpdate(body)
	if err != nil {
		return parsed{}, err
	}
	id := strconv.FormatInt(*u.ID, 10)
	var p parsed
	switch {
	case present(u.Message):
		p, err = parseMessage(id, u.Message)
	case present(u.CallbackQuery):
		p, err = parseCallback(id, u.CallbackQuery)
	case present(u.MyChatMember):
		p, err = parseMembership(id, u.MyChatMember)
	case present(u.EditedMessage):
		p.skip = "edited_message"
	case present(u.ChannelPost), present(u.EditedChannelPost):
		// A channel's subscribers are not one citizen; a notice would be posted to all.
		p.skip = "channel post"
	default:
		p.skip = "unknown update"
	}
	p.id = *u.ID
	if err != nil && p.note != "" {
		err = fmt.Errorf("%w (%s)", err, p.note)
	}
	return p, err
}

// chatIsPrivate tells a private chat from a group by the fields present: the chat's
// type when Telegram gives it (some of its own examples do not); else a negative id is
// a group, supergroup or channel, and a positive one is a private chat only when it is
// the sender's own id. A chat that is missing, has id 0, or fits neither is unusable:
// nothing may be sent to it.
func chatIsPrivate(c *chat, from *user) (bool, error) {
	switch {
	case c == nil:
		return false, unusable("no chat")
	case c.ID == 0:
		return false, unusable("chat id 0")
	case c.Type != "":
		return c.Type == "private", nil
	case c.ID < 0:
		return false, nil
	case from != nil && from.ID == c.ID:
		return true, nil
	}
	return false, unusable("chat without a type whose id is not its sender's")
}

func parseMessage(id string, raw json.RawMessage) (parsed, error) {
	m, note, err := decodeMessage(raw)
	if err != nil {
		return parsed{}, err
	}
	p, err := messageMeaning(id, m)
	p.note = note
	return p, err
}

// messageMeaning is what a decoded message means.
func messageMeaning(id string, m *message) (parsed, error) {
	private, err := chatIsPrivate(m.Chat, m.From)
	if err != nil {
		return parsed{}, err
	}
	if !private {
		if isService(m) {
			return parsed{skip: "group service message"}, nil
		}
		return parsed{group: m}, nil
	}
	ev := bot.Event{
		ID:           id,
		Conversation: conversation(m.Chat.ID),
		At:           unixTime(m.Date),
	}
	if m.From != nil {
		ev.Lang = m.From.LanguageCode
	}
	p := parsed{}
	switch {
	case m.Text != "":
		ev.Kind, ev.Text = bot.EventText, m.Text
		if cmd, payload, ok := command(m.Text); ok {
			ev.Kind, ev.Command, ev.Payload, ev.Text = bot.EventCommand, cmd, payload, ""
		}
	case m.Contact != nil:
		ev.Kind = bot.EventContact
		ev.Contact = &bot.Contact{
			Name:  strings.TrimSpace(m.Contact.FirstName + " " + m.Contact.LastName),
			Phone: m.Contact.PhoneNumber,
			Own:   m.From != nil && m.Contact.UserID != 0 && m.Contact.UserID == m.From.ID,
		}
	case m.Venue != nil: // a venue also carries a location: look at it first
		ev.Kind = bot.EventLocation
		ev.Location = &bot.Location{
			Lat: m.Venue.Location.Latitude, Lon: m.Venue.Location.Longitude,
			Label: joinNonEmpty(", ", m.Venue.Title, m.Venue.Address),
		}
	case m.Location != nil:
		ev.Kind = bot.EventLocation
		ev.Location = &bot.Location{Lat: m.Location.Latitude, Lon: m.Location.Longitude}
	case len(m.Photo) > 0:
		ev.Kind, ev.Text = bot.EventAttachments, m.Caption
		ev.Attachments = []bot.Attachment{largestPhoto(m.Photo, m.Caption)}
		p.album = m.MediaGroupID
	case m.has("animation"): // a GIF also carries a document: look at it first
		ev.Kind, ev.Unsupported = bot.EventUnsupported, "animation"
	case m.Document != nil:
		// Name, type and size are the sender's word: flows check them at the step.
		ev.Kind, ev.Text = bot.EventAttachments, m.Caption
		ev.Attachments = []bot.Attachment{{
			Kind: bot.Document, Ref: m.Document.FileID, MIME: m.Document.MimeType,
			Size: m.Document.FileSize, Name: m.Document.FileName, Caption: m.Caption,
		}}
		p.album = m.MediaGroupID
	default:
		kind := unsupportedKind(m)
		if kind == "" {
			return parsed{skip: "service message"}, nil
		}
		ev.Kind, ev.Unsupported = bot.EventUnsupported, kind
		p.album = m.MediaGroupID // albums may hold videos and audio too
	}
	p.events = []bot.Event{ev}
	return p, nil
}

// unsupportedContent is content the gateway does not accept, by its field name.
var unsupportedContent = []string{"voice", "video", "video_note", "audio", "sticker", "dice", "poll", "game", "invoice"}

// serviceFields are the fields of the messages Telegram writes itself (pins, joins,
// timers, topics…).
var serviceFields = []string{
	"pinned_message", "new_chat_members", "left_chat_member", "new_chat_title", "new_chat_photo",
	"delete_chat_photo", "group_chat_created", "supergroup_chat_created", "channel_chat_created",
	"message_auto_delete_timer_changed", "migrate_to_chat_id", "migrate_from_chat_id",
	"successful_payment", "refunded_payment", "connected_website", "write_access_allowed",
	"proximity_alert_triggered", "boost_added", "chat_background_set",
	"forum_topic_created", "forum_topic_edited", "forum_topic_closed", "forum_topic_reopened",
	"general_forum_topic_hidden", "general_forum_topic_unhidden", "giveaway_created", "giveaway_completed",
	"video_chat_scheduled", "video_chat_started", "video_chat_ended", "video_chat_participants_invited",
	"voice_chat_scheduled", "voice_chat_started", "voice_chat_ended", "voice_chat_participants_invited",
}

// unsupportedKind names content the gateway does not accept, "" for a service message.
func unsupportedKind(m *message) string {
	for _, k := range unsupportedContent {
		if m.has(k) {
			return k
		}
	}
	if isService(m) {
		return ""
	}
	// Content the gateway has no name for (stories, giveaways…) lands here.
	return "other"
}

// isService reports the messages Telegram writes itself.
func isService(m *message) bool {
	for _, k := range serviceFields {
		if m.has(k) {
			return true
		}
	}
	return false
}

func parseCallback(id string, raw json.RawMessage) (parsed, error) {
	var q callbackQuery
	note, err := decodePart(raw, "callback_query", &q)
	if err != nil {
		return parsed{}, err
	}
	var chat int64
	switch {
	case q.Message != nil && q.Message.Chat != nil:
		private, err := chatIsPrivate(q.Message.Chat, q.From)
		if err != nil {
			return parsed{note: note}, err
		}
		if !private {
			return parsed{skip: "group button"}, nil
		}
		chat = q.Message.Chat.ID
	case q.From != nil && q.From.ID > 0:
		chat = q.From.ID // a button on an inline message: the chat is the presser's
	default:
		return parsed{note: note}, unusable("callback_query without message or sender")
	}
	ev := bot.Event{ID: id, Conversation: conversation(chat), Kind: bot.EventButton, Payload: q.Data}
	if q.From != nil {
		ev.Lang = q.From.LanguageCode
	}
	return parsed{events: []bot.Event{ev}, callback: &q, note: note}, nil
}

func parseMembership(id string, raw json.RawMessage) (parsed, error) {
	var m chatMemberUpdated
	note, err := decodePart(raw, "my_chat_member", &m)
	if err != nil {
		return parsed{}, err
	}
	private, err := chatIsPrivate(m.Chat, m.From)
	if err != nil {
		return parsed{note: note}, err
	}
	if !private {
		return parsed{skip: "group membership"}, nil
	}
	ev := bot.Event{ID: id, Conversation: conversation(m.Chat.ID), At: unixTime(m.Date)}
	if m.From != nil {
		ev.Lang = m.From.LanguageCode
	}
	switch m.NewChatMember.Status {
	case "kicked":
		ev.Kind = bot.EventUnfollow
	case "member":
		ev.Kind = bot.EventFollow
	default:
		return parsed{skip: "membership " + m.NewChatMember.Status}, nil
	}
	return parsed{events: []bot.Event{ev}, note: note}, nil
}

// command splits "/start payload" or "/help@BotName" into a lowercased command and the
// rest. Telegram commands are 1–32 letters, digits and underscores.
func command(text string) (cmd, payload string, ok bool) {
	if !strings.HasPrefix(text, "/") {
		return "", "", false
	}
	word, rest, _ := strings.Cut(text[1:], " ")
	if i := strings.IndexAny(word, "\n\t"); i >= 0 { // "/start\nmore" is still a command
		word, rest = word[:i], word[i+1:]+" "+rest
	}
	word, _, _ = strings.Cut(word, "@")
	if word == "" || len(word) > 32 {
		return "", "", false
	}
	for _, r := range word {
		if !(r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return "", "", false
		}
	}
	return strings.ToLower(word), strings.TrimSpace(rest), true
}

// largestPhoto picks the biggest of the sizes Telegram offers: the last one, by Telegram's
// habit, but compared by area and file size so the order does not matter.
func largestPhoto(sizes []photoSize, caption string) bot.Attachment {
	best := sizes[0]
	for _, s := range sizes[1:] {
		if s.Width*s.Height > best.Width*best.Height ||
			s.Width*s.Height == best.Width*best.Height && s.FileSize > best.FileSize {
			best = s
		}
	}
	return bot.Attachment{Kind: bot.Photo, Ref: best.FileID, MIME: "image/jpeg", Size: best.FileSize, Caption: caption}
}

func conversation(chat int64) bot.ConversationRef {
	return bot.ConversationRef{Channel: bot.Telegram, ID: strconv.FormatInt(chat, 10)}
}

func unixTime(sec int64) time.Time {
	if sec == 0 {
		return time.Time{}
	}
	return time.Unix(sec, 0).UTC()
}

func joinNonEmpty(sep string, ss ...string) string {
	var out []string
	for _, s := range ss {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return strings.Join(out, sep)
}

// maskChat hides most of a chat id for logs: "12345689" → "tg:12***89".
func maskChat(id string) string {
	if len(id) <= 4 {
		return "tg:***"
	}
	return fmt.Sprintf("tg:%s***%s", id[:2], id[len(id)-2:])
}
