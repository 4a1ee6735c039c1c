package bot

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// BroadcastState is where a broadcast stands.
type BroadcastState string

// A broadcast is scheduled until its time, sending while its recipients are put in
// the channels' bulk lanes, then queued (every recipient is in a lane once; the lanes
// send at their pace); cancelled stops the fan-out.
const (
	BroadcastScheduled BroadcastState = "scheduled"
	BroadcastSending   BroadcastState = "sending"
	BroadcastQueued    BroadcastState = "queued"
	BroadcastCancelled BroadcastState = "cancelled"
)

// BroadcastTextMax bounds a broadcast's text, in characters (a Telegram message holds
// 4,096; Zalo's 2,000).
const BroadcastTextMax = 2000

// Broadcast is one message to an audience, in each citizen's language.
type Broadcast struct {
	ID       string        `json:"id"`
	Audience AudienceQuery `json:"audience"`
	Text     Text          `json:"text"` // Vietnamese required; English falls back to it
	// Personal, when set, is the text for a recipient whose draft has a title (a draft
	// reminder, AudienceMember.DraftTitle): DraftTitlePlaceholder in it stands for the
	// title. A recipient with none gets Text.
	Personal Text `json:"personal,omitzero"`
	// Button, when set, is one button under the message (a command's payload).
	Button  *BroadcastButton `json:"button,omitempty"`
	At      time.Time        `json:"at"` // not before
	Created time.Time        `json:"created"`
	By      string           `json:"by,omitempty"` // who made it ("" for the scheduler)
	State   BroadcastState   `json:"state"`
}

// BroadcastButton is a button under a broadcast, its label in both languages.
type BroadcastButton struct {
	Label   Text   `json:"label"`
	Payload string `json:"payload"`
}

// ErrUnknownBroadcast: no broadcast with that id.
var ErrUnknownBroadcast = errors.New("unknown broadcast")

// Validate reports a broadcast that cannot be sent as it stands.
func (b Broadcast) Validate() error {
	if b.ID == "" {
		return errors.New("broadcast: an id is required")
	}
	if err := b.Audience.Validate(); err != nil {
		return fmt.Errorf("broadcast: %w", err)
	}
	if strings.TrimSpace(b.Text.VI) == "" {
		return errors.New("broadcast: the Vietnamese text is required")
	}
	if p := b.Personal; p != (Text{}) && (!strings.Contains(p.VI, DraftTitlePlaceholder) ||
		p.EN != "" && !strings.Contains(p.EN, DraftTitlePlaceholder)) {
		return errors.New("broadcast: a personal text needs Vietnamese, and the title's place in each language")
	}
	for _, t := range []string{b.Text.VI, b.Text.EN, b.Personal.VI, b.Personal.EN} {
		if utf8.RuneCountInString(t) > BroadcastTextMax {
			return fmt.Errorf("broadcast: a text is longer than %d characters", BroadcastTextMax)
		}
	}
	return nil
}

// Recipients is the audience the broadcast is sent to: never those who said stop, so
// "all" reads the subscribed (AudienceQuery's doc says why both exist).
func (b Broadcast) Recipients() AudienceQuery {
	q := b.Audience
	if q.Kind == AudienceAll {
		q.Kind = AudienceSubscribed
	}
	return q
}

// DraftTitlePlaceholder stands for the citizen's draft title in a broadcast's Personal
// text. A template's own syntax, so that a locale message can carry it through its
// rendering (given as the Title value), and the plain replacement of one string per
// recipient reads nothing a title holds as syntax.
const DraftTitlePlaceholder = "{{.Title}}"

// Message is the broadcast as one citizen gets it, in the bulk lane: its id names the
// broadcast and the citizen, so that a recipient is told once. A citizen whose draft
// has a title gets the Personal text, naming it.
func (b Broadcast) Message(m AudienceMember) Outbound {
	text := b.Text.In(m.Lang)
	if b.Personal.VI != "" && m.DraftTitle != "" {
		text = strings.ReplaceAll(b.Personal.In(m.Lang), DraftTitlePlaceholder, m.DraftTitle)
	}
	o := Outbound{
		ID:           "bc:" + b.ID + ":" + m.Conversation.Key(),
		Conversation: m.Conversation,
		Lang:         m.Lang,
		Reply:        Reply{Text: text},
		Broadcast:    b.ID,
	}
	if b.Button != nil {
		o.Reply.Choices = []Choice{{Label: b.Button.Label.In(m.Lang), Payload: b.Button.Payload}}
	}
	return o
}

// BroadcastProgress is how far a broadcast got, summed over the store's shards.
type BroadcastProgress struct {
	// Queued recipients were put in a bulk lane; of them, Sent were delivered, Failed
	// were not for a reason to look into (the channel refused), and Skipped were left
	// out by reason (the Skip constants), counted apart because nobody can mend them.
	Queued, Sent, Failed int64
	Skipped              map[string]int64 `json:",omitempty"`
	// Cancelled were taken out of the lanes unsent when the broadcast was cancelled.
	Cancelled int64
	// ShardsDone of Shards have every recipient queued.
	Shards, ShardsDone int
}

// Why a queued recipient was skipped: found at send time, or told by the channel.
const (
	SkipStopped    = "stopped"     // said stop since the broadcast was queued
	SkipBlocked    = "blocked"     // blocked the bot (Telegram's 403) or left the channel
	SkipUnfollowed = "unfollowed"  // unfollowed the Zalo OA
	SkipZaloWindow = "zalo_window" // outside Zalo's interaction window, and no template message for them
	SkipErased     = "erased"      // erased their data ("forget me")
)

// SkipReasons are the Skip constants in the order they are shown.
func SkipReasons() []string {
	return []string{SkipStopped, SkipBlocked, SkipUnfollowed, SkipZaloWindow, SkipErased}
}

// AddSkipped counts n more recipients skipped for reason.
func (p *BroadcastProgress) AddSkipped(reason string, n int64) {
	if n == 0 {
		return
	}
	if p.Skipped == nil {
		p.Skipped = map[string]int64{}
	}
	p.Skipped[reason] += n
}

// SkippedAll counts the recipients skipped for any reason.
func (p BroadcastProgress) SkippedAll() int64 {
	var n int64
	for _, k := range p.Skipped {
		n += k
	}
	return n
}

// Finished reports whether every recipient was queued and then sent or failed.
func (p BroadcastProgress) Finished() bool {
	return p.Shards > 0 && p.ShardsDone == p.Shards && p.Done() >= p.Queued
}

// Done counts the recipients finished with: sent, failed, skipped or cancelled.
func (p BroadcastProgress) Done() int64 {
	return p.Sent + p.Failed + p.SkippedAll() + p.Cancelled
}

// ParseAudience reads an audience as people write it: subscribed, all, program:ID or
// draft:ID (the CLI's --audience, the console's form).
func ParseAudience(s string) (AudienceQuery, error) {
	kind, program, _ := strings.Cut(strings.TrimSpace(s), ":")
	q := AudienceQuery{Kind: AudienceKind(kind), Program: program}
	return q, q.Validate()
}

// NewBroadcastID names a broadcast made at now: its day in zone and twelve random hex
// digits ("20261201-3f9a0c7d21be"), so that ids read by day and do not collide. The
// CLI and the console both name broadcasts with it.
func NewBroadcastID(now time.Time, zone *time.Location) string {
	var id [6]byte
	_, _ = rand.Read(id[:])
	return now.In(zone).Format("20060102") + "-" + hex.EncodeToString(id[:])
}

// IsBroadcastID reports whether id has the shape NewBroadcastID gives: a form that
// carries an id back (the console's preview, confirmed) names no other key.
func IsBroadcastID(id string) bool {
	day, hexPart, ok := strings.Cut(id, "-")
	if !ok || len(day) != 8 || len(hexPart) != 12 {
		return false
	}
	if _, err := time.Parse("20060102", day); err != nil {
		return false
	}
	_, err := hex.DecodeString(hexPart)
	return err == nil && strings.ToLower(hexPart) == hexPart
}

// BroadcastCanceller is what CancelBroadcast needs of the store: redisstore.Store.
type BroadcastCanceller interface {
	Broadcast(ctx context.Context, id string) (Broadcast, error)
	SetBroadcastState(ctx context.Context, id string, state BroadcastState, from ...BroadcastState) (bool, error)
	DropBroadcast(ctx context.Context, id string) (int64, error)
}

// CancelBroadcast stops a broadcast while it is scheduled or sending: its fan-out
// ends, and what waits in the bulk lanes is taken out (a message a sender has already
// taken still goes); it returns how many were taken out. ErrNotCancellable when it is
// past that, ErrUnknownBroadcast when there is none. The CLI and the console share it.
func CancelBroadcast(ctx context.Context, st BroadcastCanceller, id string) (int64, error) {
	ok, err := st.SetBroadcastState(ctx, id, BroadcastCancelled, BroadcastScheduled, BroadcastSending)
	if err != nil {
		return 0, err
	}
	if !ok {
		b, err := st.Broadcast(ctx, id)
		if err != nil {
			return 0, err
		}
		return 0, fmt.Errorf("broadcast %s is %s already: %w", id, b.State, ErrNotCancellable)
	}
	return st.DropBroadcast(ctx, id)
}

// ErrNotCancellable: the broadcast's fan-out is over (queued) or was cancelled.
var ErrNotCancellable = errors.New("nothing left to cancel")
