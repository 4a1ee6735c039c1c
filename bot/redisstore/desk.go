package redisstore

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/redis/go-redis/v9"

	"github.com/sangkien/sangkien/bot"
)

// This file keeps the console's inbox: each conversation's card (a hash beside its
// session) and, per shard, sorted sets of the conversations waiting (by when they began
// waiting), open and resolved (by their last activity or resolve), and those assigned
// to each member of staff. Commit writes them with the session in one script, so the
// inbox is never behind the conversation; the inbox reads the sets of all shards at
// once and the cards of just the page it shows.

// deskUpdate is what one commit writes of the desk.
type deskUpdate struct {
	status          string // "" leaves card and indexes alone
	score, activity int64
	was, now        string // the assignee before and after
	fields          []any  // the card's field names and values
}

// cardTextMax bounds the card's last message: Redis keeps a small hash as one compact
// listpack only while every value is at most hash-max-listpack-value (64 bytes by
// default), and one longer value, any description, turns it into a hash table for good,
// about 450 bytes more a conversation. The inbox shows a line of it; the whole message
// is in the transcript. The name is kept whole: canned answers fill {{name}} from it,
// and a name that long is rare.
const cardTextMax = 64

// cardText is text as the card keeps it: whole when it fits cardTextMax bytes, else cut
// at a character's start and ended with "…", within the bound.
func cardText(text string) string {
	if len(text) <= cardTextMax {
		return text
	}
	const more = "…"
	cut := cardTextMax - len(more)
	for cut > 0 && !utf8.RuneStart(text[cut]) {
		cut--
	}
	return strings.TrimRightFunc(text[:cut], unicode.IsSpace) + more
}

// deskFields is how many fields a commit sets on a card at most (program and name may
// come twice: a draft's, then a submission's).
const deskFields = 17

// deskChange builds the desk part of a commit.
func (s *Store) deskChange(c bot.Change) deskUpdate {
	u := deskUpdate{was: c.PriorDesk.Assignee}
	if c.Forget || c.Session == nil {
		return u
	}
	p := c.Session.Profile
	d := p.Desk
	u.status, u.now = string(d.State()), d.Assignee
	u.activity = p.Updated.UnixMilli()
	switch d.State() {
	case bot.DeskWaiting:
		u.score = d.WaitingSince.UnixMilli()
	case bot.DeskResolved:
		u.score = d.Resolved.UnixMilli()
	default:
		u.score = u.activity
	}
	u.fields = make([]any, 0, 2*deskFields)
	set := func(name, value string) { u.fields = append(u.fields, name, value) }
	setKept := func(name, value string) { // kept from earlier commits when unknown now
		if value != "" {
			set(name, value)
		}
	}
	set("status", u.status)
	set("reason", d.Reason)
	set("waiting", msOrEmpty(d.WaitingSince))
	set("assignee", d.Assignee)
	set("opened", msOrEmpty(d.Opened))
	set("answered", msOrEmpty(d.Answered))
	set("lang", p.Lang)
	human := "" // no field: the bot answers
	if p.Mode == bot.ModeHuman {
		human = "true"
	}
	set("human", human)
	set("updated", strconv.FormatInt(u.activity, 10))
	if dr := c.Session.State.Draft; dr != nil {
		setKept("program", dr.ProgramID)
		setKept("name", dr.Name)
	}
	if sub := c.Submission; sub != nil {
		setKept("program", sub.Proposal.ProgramID)
		setKept("ref", sub.Reference)
		setKept("name", sub.Contact.Name)
	}
	for _, e := range slices.Backward(c.Transcript) {
		if isMessage(e) {
			set("last", cardText(e.Text))
			set("last_dir", string(e.Dir))
			set("last_at", strconv.FormatInt(e.At.UnixMilli(), 10))
			break
		}
	}
	return u
}

// isMessage reports whether a transcript line is what a person wrote, the citizen or
// staff, as opposed to the bot's answers, notes and staff actions: the inbox shows
// what the citizen last said, or what staff last told them.
func isMessage(e bot.TranscriptEntry) bool {
	if e.Kind == "reply" {
		return false
	}
	switch bot.EventKind(e.Kind) {
	case bot.EventStaffNote, bot.EventStaffAssign, bot.EventStaffResolve, bot.EventStaffJoin,
		bot.EventStaffHandback, bot.EventStatus, bot.EventFollow, bot.EventUnfollow:
		return false
	}
	return true
}

func msOrEmpty(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return strconv.FormatInt(t.UnixMilli(), 10)
}

// Conversations lists the cards q selects: waiting ones oldest first (the longest wait
// first), open and resolved ones newest first. Cards whose conversation expired or
// was forgotten are dropped from the indexes as they are met.
func (s *Store) Conversations(ctx context.Context, q bot.InboxQuery) ([]bot.Card, error) {
	if q.Limit <= 0 {
		q.Limit = 50
	}
	members, err := s.inboxMembers(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("redisstore: conversations: %w", err)
	}
	var out []bot.Card
	for len(members) > 0 && len(out) < q.Limit {
		n := min(len(members), max(q.Limit-len(out), 64))
		cards, err := s.Cards(ctx, members[:n])
		if err != nil {
			return nil, fmt.Errorf("redisstore: conversations: %w", err)
		}
		for _, c := range cards {
			if matches(c, q) && len(out) < q.Limit {
				out = append(out, c)
			}
		}
		members = members[n:]
	}
	return out, nil
}

// ConversationCounts counts the conversations of each status, in all shards.
func (s *Store) ConversationCounts(ctx context.Context) (map[bot.DeskStatus]int64, error) {
	statuses := []bot.DeskStatus{bot.DeskWaiting, bot.DeskOpen, bot.DeskResolved}
	cmds := make([]*redis.IntCmd, 0, Shards*len(statuses))
	_, err := s.c.Pipelined(ctx, func(p redis.Pipeliner) error {
		for sh := range Shards {
			for _, st := range statuses {
				cmds = append(cmds, p.ZCard(ctx, s.deskKey(sh, string(st))))
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("redisstore: conversation counts: %w", err)
	}
	out := map[bot.DeskStatus]int64{}
	for i, c := range cmds {
		out[statuses[i%len(statuses)]] += c.Val()
	}
	return out, nil
}

// inboxMember is one conversation in an index.
type inboxMember struct {
	key   string
	score float64
}

// inboxMembers reads the index q names in every shard, in the inbox's order. The
// channel is in the key, so it is filtered here, before any card is read.
func (s *Store) inboxMembers(ctx context.Context, q bot.InboxQuery) ([]string, error) {
	name := string(q.Status)
	if q.Assignee != "" {
		name = "of:" + q.Assignee
	}
	cmds := make([]*redis.ZSliceCmd, Shards)
	_, err := s.c.Pipelined(ctx, func(p redis.Pipeliner) error {
		for sh := range Shards {
			cmds[sh] = p.ZRangeWithScores(ctx, s.deskKey(sh, name), 0, -1)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	var all []inboxMember
	prefix := ""
	if q.Channel != "" {
		prefix = bot.ConversationRef{Channel: q.Channel, ID: "x"}.Key()
		prefix = prefix[:len(prefix)-1]
	}
	for _, c := range cmds {
		for _, z := range c.Val() {
			key, _ := z.Member.(string)
			if strings.HasPrefix(key, prefix) {
				all = append(all, inboxMember{key, z.Score})
			}
		}
	}
	oldestFirst := q.Status == bot.DeskWaiting && q.Assignee == ""
	slices.SortFunc(all, func(a, b inboxMember) int {
		if oldestFirst {
			a, b = b, a
		}
		switch {
		case a.score > b.score:
			return -1
		case a.score < b.score:
			return 1
		}
		return strings.Compare(a.key, b.key)
	})
	keys := make([]string, len(all))
	for i, m := range all {
		keys[i] = m.key
	}
	return keys, nil
}

func matches(c bot.Card, q bot.InboxQuery) bool {
	return (q.Status == "" || c.Status == q.Status) &&
		(q.Lang == "" || c.Lang == q.Lang) &&
		(q.Program == "" || c.Program == q.Program)
}

// Cards reads the cards of the conversations keys name, in their order; one whose card
// is gone is left out and removed from its shard's indexes.
func (s *Store) Cards(ctx context.Context, keys []string) ([]bot.Card, error) {
	refs := make([]bot.ConversationRef, 0, len(keys))
	for _, k := range keys {
		ref, err := bot.ParseConversationKey(k)
		if err != nil {
			continue // not ours to read; nothing writes such a member
		}
		refs = append(refs, ref)
	}
	cmds := make([]*redis.MapStringStringCmd, len(refs))
	_, err := s.c.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, ref := range refs {
			cmds[i] = p.HGetAll(ctx, s.keys(ref).card)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("redisstore: cards: %w", err)
	}
	out := make([]bot.Card, 0, len(refs))
	var gone []bot.ConversationRef
	for i, c := range cmds {
		if len(c.Val()) == 0 {
			gone = append(gone, refs[i])
			continue
		}
		out = append(out, cardOf(refs[i], c.Val()))
	}
	s.dropCards(ctx, gone)
	return out, nil
}

// dropCards removes conversations whose card expired from their shards' indexes.
// A failure only leaves them for the next reader.
func (s *Store) dropCards(ctx context.Context, gone []bot.ConversationRef) {
	if len(gone) == 0 {
		return
	}
	_, err := s.c.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, ref := range gone {
			k := s.keys(ref)
			for _, st := range []string{"waiting", "open", "resolved"} {
				p.ZRem(ctx, k.desk(st), k.conv)
			}
		}
		return nil
	})
	if err != nil {
		s.log.Warn("dropping expired inbox entries", "n", len(gone), "err", err)
	}
}

// Card reads one conversation's card; ok is false when it has none.
func (s *Store) Card(ctx context.Context, conv bot.ConversationRef) (bot.Card, bool, error) {
	m, err := s.c.HGetAll(ctx, s.keys(conv).card).Result()
	if err != nil {
		return bot.Card{}, false, fmt.Errorf("redisstore: card: %w", err)
	}
	if len(m) == 0 {
		return bot.Card{}, false, nil
	}
	return cardOf(conv, m), true, nil
}

func cardOf(ref bot.ConversationRef, m map[string]string) bot.Card {
	return bot.Card{
		Conversation: ref,
		Status:       bot.DeskStatus(m["status"]),
		Reason:       m["reason"],
		WaitingSince: msTime(m["waiting"]),
		Assignee:     m["assignee"],
		Opened:       msTime(m["opened"]),
		Answered:     msTime(m["answered"]),
		Lang:         m["lang"],
		Human:        m["human"] == "true",
		Program:      m["program"],
		Reference:    m["ref"],
		Name:         m["name"],
		LastText:     m["last"],
		LastDir:      bot.Direction(m["last_dir"]),
		LastAt:       msTime(m["last_at"]),
		Updated:      msTime(m["updated"]),
	}
}

func msTime(v string) time.Time {
	ms, err := strconv.ParseInt(v, 10, 64)
	if err != nil || v == "" {
		return time.Time{}
	}
	return time.UnixMilli(ms)
}

// deskKey names an inbox index of one shard.
func (s *Store) deskKey(shard int, name string) string {
	return s.prefix + ":" + tag(shard) + ":desk:" + name
}

// deskChannel is the pub/sub channel each commit names its conversation on, for the
// consoles' live pages. A message is a hint to look again, not a record: a console
// that missed one (it was reconnecting) sees the change at its next look.
func (s *Store) deskChannel() string { return s.prefix + ":desk:changed" }

// DeskChanges tells of conversations whose desk, card or transcript changed, by key,
// until ctx ends; then the channel is closed. It returns once Redis confirmed the
// subscription (or failed to: then the channel is closed at once), so that every
// change committed after it returns is told. Messages published while the
// subscription was down are not told again.
func (s *Store) DeskChanges(ctx context.Context) <-chan string {
	out := make(chan string, 64)
	sub := s.c.Subscribe(ctx, s.deskChannel())
	if _, err := sub.Receive(ctx); err != nil {
		_ = sub.Close()
		close(out)
		return out
	}
	go func() {
		defer close(out)
		defer sub.Close()
		ch := sub.Channel()
		for {
			select {
			case <-ctx.Done():
				return
			case m, ok := <-ch:
				if !ok {
					return
				}
				select {
				case out <- m.Payload:
				default: // a slow reader misses hints, never blocks the others
				}
			}
		}
	}()
	return out
}
