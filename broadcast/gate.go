package broadcast

import (
	"context"

	"github.com/sangkien/sangkien/bot"
)

// Sessions reads a conversation's session without locking it (redisstore.Store); nil
// when the conversation has none.
type Sessions interface {
	Session(ctx context.Context, conv bot.ConversationRef) (*bot.Session, error)
}

// Gate is the bulk lanes' last look at a broadcast's recipient, as their message's turn
// comes (bot.BulkGate): hours may have passed since it was queued, through the quiet
// hours, and the citizen may have said stop, erased their data or left the channel.
// Messages that are not a broadcast's go as they are.
type Gate struct {
	Sessions Sessions
}

// Admit returns o, or the reason to skip its recipient.
func (g Gate) Admit(ctx context.Context, o bot.Outbound) (bot.Outbound, string, error) {
	if o.Broadcast == "" {
		return o, "", nil
	}
	s, err := g.Sessions.Session(ctx, o.Conversation)
	switch {
	case err != nil:
		return o, "", err
	case s == nil:
		return o, bot.SkipErased, nil
	case s.Profile.OptedOut:
		return o, bot.SkipStopped, nil
	case s.Profile.Unreachable && o.Conversation.Channel == bot.Zalo:
		return o, bot.SkipUnfollowed, nil
	case s.Profile.Unreachable:
		return o, bot.SkipBlocked, nil
	}
	return o, "", nil
}
