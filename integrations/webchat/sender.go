package webchat

import (
	"context"

	json "github.com/go-json-experiment/json/v1"

	"github.com/sangkien/sangkien/bot"
)

// Sender is the channel's bot.Sender: it appends each reply to its conversation's
// stream, once per reply id, where the browser's event stream picks it up.
type Sender struct {
	Replies Replies
}

var _ bot.Sender = (*Sender)(nil)

// reply is a reply as the event stream sends it.
type reply struct {
	Text    string       `json:"text"`
	Choices []bot.Choice `json:"choices"`
	// Request is "location" when the bot asks where: the page offers the browser's
	// geolocation. ("contact" is not offered: a page has no phone to share.)
	Request bot.Request `json:"request,omitempty"`
}

// Send appends o's reply to its conversation's stream. A Redis that does not answer is
// a retryable failure; the delivery queue sends again, and the reply is kept once.
func (s *Sender) Send(ctx context.Context, o bot.Outbound) error {
	if o.Conversation.Channel != bot.Web {
		return &bot.SendError{Failure: bot.Permanent, Detail: "not a web chat conversation"}
	}
	r := reply{Text: o.Reply.Text, Choices: o.Reply.Choices, Request: o.Reply.Request}
	if r.Choices == nil {
		r.Choices = []bot.Choice{}
	}
	if r.Request != bot.RequestLocation {
		r.Request = bot.RequestNone
	}
	b, err := json.Marshal(r)
	if err != nil {
		return &bot.SendError{Failure: bot.Permanent, Detail: "encode reply", Err: err}
	}
	if _, err := s.Replies.Append(ctx, o.Conversation.ID, o.ID, b); err != nil {
		return &bot.SendError{Failure: bot.Retryable, Detail: "store reply", Err: err}
	}
	return nil
}

// StreamMax is how many replies a conversation's stream keeps for the browser to read
// (or read again after a reload): many more than one conversation's turns.
const StreamMax = 200
