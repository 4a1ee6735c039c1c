package broadcast

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/sangkien/sangkien/bot"
)

// GateStore is what the gate reads (redisstore.Store): a conversation's session without
// locking it (nil when it has none), and the broadcasts the messages come from.
type GateStore interface {
	Session(ctx context.Context, conv bot.ConversationRef) (*bot.Session, error)
	Broadcast(ctx context.Context, id string) (bot.Broadcast, error)
}

// Gate is the bulk lanes' last look at a broadcast's recipient, as their message's turn
// comes (bot.BulkGate): hours may have passed since it was queued, through the quiet
// hours, and the citizen may have said stop, erased their data or left the channel. A
// Zalo citizen outside the OA's interaction window gets the program's template message
// (ZNS) instead, when there is one for them (ZNSFor), or is skipped. Messages that are
// not a broadcast's go as they are.
type Gate struct {
	Store    GateStore
	Programs bot.ProgramSource // for the programs' ZNS templates; nil: none
	Now      func() time.Time  // time.Now when nil

	programs sync.Map // broadcast id → its program's id ("" for none): a broadcast's audience never changes
}

// Admit returns o, the message that stands for it, or the reason to skip its recipient.
func (g *Gate) Admit(ctx context.Context, o bot.Outbound) (bot.Outbound, string, error) {
	if o.Broadcast == "" {
		return o, "", nil
	}
	s, err := g.Store.Session(ctx, o.Conversation)
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
	now := time.Now()
	if g.Now != nil {
		now = g.Now()
	}
	if o.Conversation.Channel != bot.Zalo || InZaloWindow(s.Profile, now) {
		return o, "", nil
	}
	p, ok, err := g.program(ctx, o.Broadcast)
	if err != nil {
		return o, "", err
	}
	if ok {
		if m, ok := ZNSFor(p, *s, o.Lang, now); ok {
			o.ZNS = m
			return o, "", nil
		}
	}
	return o, bot.SkipZaloWindow, nil
}

// program is the program broadcast id is about, when it is one's and the catalog has it.
func (g *Gate) program(ctx context.Context, id string) (bot.Program, bool, error) {
	if g.Programs == nil {
		return bot.Program{}, false, nil
	}
	pid, known := g.programs.Load(id)
	if !known {
		b, err := g.Store.Broadcast(ctx, id)
		if err != nil && !errors.Is(err, bot.ErrUnknownBroadcast) {
			return bot.Program{}, false, err
		}
		pid, _ = g.programs.LoadOrStore(id, b.Audience.Program)
	}
	p, ok := g.Programs.Programs().Get(pid.(string))
	return p, ok, nil
}
