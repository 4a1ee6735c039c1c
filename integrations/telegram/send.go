package telegram

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/sangkien/sangkien/bot"
)

// Limits of the Bot API that shape rendering.
const (
	// maxText is sendMessage's limit of 4,096 characters. Telegram counts code points;
	// counting UTF-16 code units, as the split does, stays within it.
	maxText = 4096
	// maxCallbackData is the limit of an inline button's callback_data, in bytes.
	maxCallbackData = 64
	// shortLabel is the longest label (in runes) still drawn two buttons to a row.
	shortLabel = 14
)

// Send draws one reply as Telegram messages and sends them.
//
// Rendering decisions:
//   - No parse mode: text goes out as plain text, so a citizen's own words quoted back
//     to them can never break markup or inject formatting, and nothing needs escaping.
//   - Choices become an inline keyboard (callback_data = payload, at most 64 bytes; a
//     longer payload fails at once as Permanent: flows keep payloads short).
//   - A Request (contact, location) becomes a one-time reply keyboard: the request button,
//     then one row per choice label. Pressing such a label sends the label back as text
//     (Telegram reply keyboards cannot carry a payload).
//   - A reply with neither choices nor a request carries remove_keyboard, so a request
//     keyboard shown earlier disappears at the next plain reply. Which keyboard a chat
//     shows is not tracked: that would be state outside Redis, lost on restart and not
//     shared between processes. remove_keyboard on a chat without one is harmless.
//   - Text over 4,096 characters is split at paragraph, else sentence, else word
//     boundaries; only the last part carries the keyboard. A failure after some parts
//     went out makes a retry send those parts again: the price of one queue entry per reply.
//   - A broadcast's message (o.Broadcast set: the bulk lane's) carries
//     allow_paid_broadcast when the client pays for broadcasts (Settings.PaidBroadcast);
//     a reply never does: replies are not held to the broadcast limit, and would be
//     paid for nothing.
func (c *Client) Send(ctx context.Context, o bot.Outbound) error {
	chatID, err := strconv.ParseInt(o.Conversation.ID, 10, 64)
	if err != nil || chatID == 0 || o.Conversation.Channel != bot.Telegram {
		return &bot.SendError{Failure: bot.Permanent, Detail: fmt.Sprintf("not a telegram chat: %s", bot.MaskID(o.Conversation.Key()))}
	}
	markup, err := c.replyMarkup(o.Reply, o.Lang)
	if err != nil {
		return err
	}
	if strings.TrimSpace(o.Reply.Text) == "" {
		return &bot.SendError{Failure: bot.Permanent, Detail: "reply " + o.ID + " has no text"}
	}
	parts := textParts(o.Reply.Text)
	for i, part := range parts {
		p := sendMessage{ChatID: chatID, Text: part, DisableWebPagePreview: true,
			AllowPaidBroadcast: c.paidBroadcast && o.Broadcast != ""}
		if i == len(parts)-1 {
			p.ReplyMarkup = markup
		}
		if _, err := c.call(ctx, "sendMessage", p); err != nil {
			c.log.Debug("send failed", "conversation", maskChat(o.Conversation.ID), "outbound", o.ID, "part", i, "err", err)
			return err
		}
	}
	return nil
}

// sendMessage is sendMessage's parameters as the gateway sends them (the library's
// MessageConfig has no allow_paid_broadcast).
type sendMessage struct {
	ChatID                   int64  `json:"chat_id"`
	Text                     string `json:"text"`
	DisableWebPagePreview    bool   `json:"disable_web_page_preview,omitempty"`
	AllowPaidBroadcast       bool   `json:"allow_paid_broadcast,omitempty"`
	ReplyToMessageID         int    `json:"reply_to_message_id,omitempty"`
	AllowSendingWithoutReply bool   `json:"allow_sending_without_reply,omitempty"`
	ReplyMarkup              any    `json:"reply_markup,omitempty"`
}

// textParts cuts a text into messages Telegram takes: at most maxText UTF-16 code units
// (Telegram counts code points, never more than those), none of them blank, since
// Telegram refuses a text that is only white space ("message text is empty").
func textParts(text string) []string {
	var parts []string
	for _, p := range bot.SplitText(text, maxText) {
		if strings.TrimSpace(p) != "" {
			parts = append(parts, p)
		}
	}
	return parts
}

// replyMarkup draws the reply's choices and request.
func (c *Client) replyMarkup(r bot.Reply, lang string) (any, error) {
	if r.Request == bot.RequestContact || r.Request == bot.RequestLocation {
		return c.requestKeyboard(r, lang), nil
	}
	if r.Request != bot.RequestNone {
		return nil, &bot.SendError{Failure: bot.Permanent, Detail: fmt.Sprintf("unknown request %q", r.Request)}
	}
	if len(r.Choices) == 0 {
		return tgbotapi.NewRemoveKeyboard(false), nil
	}
	return inlineKeyboard(r.Choices)
}

// inlineKeyboard draws choices one to a row, or two to a row when every label is short.
func inlineKeyboard(choices []bot.Choice) (tgbotapi.InlineKeyboardMarkup, error) {
	perRow := 1
	if len(choices) > 1 && allShort(choices) {
		perRow = 2
	}
	var rows [][]tgbotapi.InlineKeyboardButton
	for i, ch := range choices {
		if n := len(ch.Payload); n == 0 || n > maxCallbackData {
			return tgbotapi.InlineKeyboardMarkup{}, &bot.SendError{Failure: bot.Permanent,
				Detail: fmt.Sprintf("choice %d: payload is %d bytes, callback_data takes 1 to %d", i, n, maxCallbackData)}
		}
		b := tgbotapi.NewInlineKeyboardButtonData(ch.Label, ch.Payload)
		if i%perRow == 0 {
			rows = append(rows, nil)
		}
		rows[len(rows)-1] = append(rows[len(rows)-1], b)
	}
	return tgbotapi.NewInlineKeyboardMarkup(rows...), nil
}

func allShort(choices []bot.Choice) bool {
	for _, ch := range choices {
		if utf8.RuneCountInString(ch.Label) > shortLabel {
			return false
		}
	}
	return true
}

// requestKeyboard draws a one-time reply keyboard: the request button first, then the
// choices as plain buttons.
func (c *Client) requestKeyboard(r bot.Reply, lang string) tgbotapi.ReplyKeyboardMarkup {
	var req tgbotapi.KeyboardButton
	if r.Request == bot.RequestContact {
		req = tgbotapi.NewKeyboardButtonContact(c.texts.text(lang, "telegram.share_contact"))
	} else {
		req = tgbotapi.NewKeyboardButtonLocation(c.texts.text(lang, "telegram.share_location"))
	}
	rows := [][]tgbotapi.KeyboardButton{{req}}
	for _, ch := range r.Choices {
		rows = append(rows, []tgbotapi.KeyboardButton{tgbotapi.NewKeyboardButton(ch.Label)})
	}
	kb := tgbotapi.NewOneTimeReplyKeyboard(rows...)
	kb.ResizeKeyboard = true
	return kb
}
