package telegram

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/sangkien/sangkien/bot"
)

// Parse turns one update into the events the engine runs. It is pure: the side effects
// an update also asks for (answering a button press, a group-chat notice, gathering an
// album) are the webhook's. An update the gateway does not use gives no events and no
// error; an update Telegram would never send (a message without a chat) is an error.
func Parse(u tgbotapi.Update) ([]bot.Event, error) {
	p, err := parse(u)
	return p.events, err
}

// parsed is what one update means to the webhook.
type parsed struct {
	events []bot.Event
	// skip says why an update gives no events ("edited_message", "unknown update").
	skip string
	// group is set for a message in a group chat, which gets one notice.
	group *tgbotapi.Message
	// callback is set for a button press, answered after the engine ran it.
	callback *tgbotapi.CallbackQuery
	// album is the media_group_id of a photo or document that is part of an album.
	album string
}

func parse(u tgbotapi.Update) (parsed, error) {
	id := strconv.Itoa(u.UpdateID)
	switch {
	case u.Message != nil:
		return parseMessage(id, u.Message)
	case u.CallbackQuery != nil:
		return parseCallback(id, u.CallbackQuery)
	case u.MyChatMember != nil:
		return parseMembership(id, u.MyChatMember)
	case u.EditedMessage != nil:
		return parsed{skip: "edited_message"}, nil
	case u.ChannelPost != nil, u.EditedChannelPost != nil:
		// A channel's subscribers are not one citizen; a notice would be posted to all.
		return parsed{skip: "channel post"}, nil
	}
	return parsed{skip: "unknown update"}, nil
}

func parseMessage(id string, m *tgbotapi.Message) (parsed, error) {
	if m.Chat == nil {
		return parsed{}, errors.New("message without chat")
	}
	if m.Chat.Type != "private" {
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
	case m.Animation != nil: // a GIF also carries a document: look at it first
		ev.Kind, ev.Unsupported = bot.EventUnsupported, "animation"
	case m.Document != nil:
		ev.Kind, ev.Text = bot.EventAttachments, m.Caption
		ev.Attachments = []bot.Attachment{{
			Kind: bot.Document, Ref: m.Document.FileID, MIME: m.Document.MimeType,
			Size: int64(m.Document.FileSize), Name: m.Document.FileName, Caption: m.Caption,
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

// unsupportedKind names content the gateway does not accept, "" for a service message.
func unsupportedKind(m *tgbotapi.Message) string {
	switch {
	case m.Voice != nil:
		return "voice"
	case m.Video != nil:
		return "video"
	case m.VideoNote != nil:
		return "video_note"
	case m.Audio != nil:
		return "audio"
	case m.Sticker != nil:
		return "sticker"
	case m.Dice != nil:
		return "dice"
	case m.Poll != nil:
		return "poll"
	case m.Game != nil:
		return "game"
	case m.Invoice != nil:
		return "invoice"
	case isService(m):
		return ""
	}
	// Content newer than the library's types (stories, giveaways…) lands here.
	return "other"
}

// isService reports the messages Telegram writes itself (pins, joins, timers).
func isService(m *tgbotapi.Message) bool {
	return m.PinnedMessage != nil || len(m.NewChatMembers) > 0 || m.LeftChatMember != nil ||
		m.NewChatTitle != "" || len(m.NewChatPhoto) > 0 || m.DeleteChatPhoto ||
		m.GroupChatCreated || m.SuperGroupChatCreated || m.ChannelChatCreated ||
		m.MessageAutoDeleteTimerChanged != nil || m.MigrateToChatID != 0 || m.MigrateFromChatID != 0 ||
		m.SuccessfulPayment != nil || m.ConnectedWebsite != "" || m.ProximityAlertTriggered != nil ||
		m.VoiceChatScheduled != nil || m.VoiceChatStarted != nil || m.VoiceChatEnded != nil ||
		m.VoiceChatParticipantsInvited != nil
}

func parseCallback(id string, q *tgbotapi.CallbackQuery) (parsed, error) {
	var chat int64
	switch {
	case q.Message != nil && q.Message.Chat != nil:
		if q.Message.Chat.Type != "private" {
			return parsed{skip: "group button"}, nil
		}
		chat = q.Message.Chat.ID
	case q.From != nil:
		chat = q.From.ID // a button on an inline message: the chat is the presser's
	default:
		return parsed{}, errors.New("callback_query without message or sender")
	}
	ev := bot.Event{ID: id, Conversation: conversation(chat), Kind: bot.EventButton, Payload: q.Data}
	if q.From != nil {
		ev.Lang = q.From.LanguageCode
	}
	return parsed{events: []bot.Event{ev}, callback: q}, nil
}

func parseMembership(id string, m *tgbotapi.ChatMemberUpdated) (parsed, error) {
	if m.Chat.Type != "private" {
		return parsed{skip: "group membership"}, nil
	}
	ev := bot.Event{ID: id, Conversation: conversation(m.Chat.ID), Lang: m.From.LanguageCode, At: unixTime(m.Date)}
	switch m.NewChatMember.Status {
	case "kicked":
		ev.Kind = bot.EventUnfollow
	case "member":
		ev.Kind = bot.EventFollow
	default:
		return parsed{skip: "membership " + m.NewChatMember.Status}, nil
	}
	return parsed{events: []bot.Event{ev}}, nil
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
func largestPhoto(sizes []tgbotapi.PhotoSize, caption string) bot.Attachment {
	best := sizes[0]
	for _, s := range sizes[1:] {
		if s.Width*s.Height > best.Width*best.Height ||
			s.Width*s.Height == best.Width*best.Height && s.FileSize > best.FileSize {
			best = s
		}
	}
	return bot.Attachment{Kind: bot.Photo, Ref: best.FileID, MIME: "image/jpeg", Size: int64(best.FileSize), Caption: caption}
}

func conversation(chat int64) bot.ConversationRef {
	return bot.ConversationRef{Channel: bot.Telegram, ID: strconv.FormatInt(chat, 10)}
}

func unixTime(sec int) time.Time {
	if sec == 0 {
		return time.Time{}
	}
	return time.Unix(int64(sec), 0).UTC()
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
