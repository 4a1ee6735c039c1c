package bot

import (
	"context"
	"errors"
	"time"
)

// Store is the durable state the engine needs. bot/redisstore implements it on Redis.
//
// An event costs two calls: Begin (lock, dedupe check, load) and Commit (everything the
// event changed, in one atomic step). Release gives the lock back when no Commit follows.
type Store interface {
	// Begin takes the conversation's lock for ttl, checks whether eventID was already
	// handled and loads the session. It returns ErrBusy when another holder has the lock,
	// and a Lease with Duplicate set (lock already given back) for a repeated event.
	Begin(ctx context.Context, conv ConversationRef, eventID string, ttl time.Duration) (*Lease, error)
	// Commit writes the change and gives the lock back, atomically. It fails with
	// ErrLeaseLost when the lock expired and someone else took it: nothing is written.
	Commit(ctx context.Context, lease *Lease, c Change) error
	// Release gives the lock back without writing anything.
	Release(ctx context.Context, lease *Lease) error
}

// Lease is a held conversation lock and what Begin loaded under it.
type Lease struct {
	Conversation ConversationRef
	EventID      string
	Token        string
	Duplicate    bool
	Session      *Session
}

// Change is everything one event does, written at once by Store.Commit.
type Change struct {
	// Session is the new session. Ignored when Forget is set.
	Session *Session
	// Forget erases the conversation's session, transcript and subscriptions
	// (the event id is still remembered, so a redelivery does not run again).
	Forget     bool
	Transcript []TranscriptEntry
	// Replies go to the conversation channel's delivery queue.
	Replies []Outbound
	// Submission, when set, enters the outbox.
	Submission *Submission
	// PriorDesk is the desk as the event found it, for the store to move the
	// conversation between the inbox's indexes (Session holds the desk after it).
	PriorDesk Desk
	// Tally is what the event adds to the reports' counters (bot/stats.go).
	Tally Tally
	// Audience is the conversation's audience membership before and after the event
	// (bot/audience.go), for the store to move it between the broadcasts' indexes.
	// With Forget, After is empty: the conversation leaves every index.
	Audience AudienceChange
}

// Direction of a transcript entry.
type Direction string

// Transcript directions.
const (
	Inbound  Direction = "in"
	Outgoing Direction = "out"
)

// TranscriptEntry is one line of a conversation as operators read it.
type TranscriptEntry struct {
	Dir     Direction `json:"dir"`
	EventID string    `json:"event_id,omitempty"`
	Kind    string    `json:"kind"`
	Text    string    `json:"text"`
	At      time.Time `json:"at"`
	// Staff names the staff member behind a staff line.
	Staff string `json:"staff,omitempty"`
	// Attachments and Location are what the citizen sent, for the console to show
	// (the files through the media proxy, the place on a map).
	Attachments []Attachment `json:"attachments,omitempty"`
	Location    *Location    `json:"location,omitempty"`
}

// TranscriptLineMax caps one transcript line, in characters: with the number of lines
// kept it bounds what a conversation can store, however long a message a provider lets
// through (Zalo's and a terminal's have no limit of their own).
const TranscriptLineMax = 4096

// transcriptLine is s cut to TranscriptLineMax characters, an ellipsis saying so.
func transcriptLine(s string) string {
	if len(s) <= TranscriptLineMax {
		return s
	}
	n := 0
	for i := range s {
		if n == TranscriptLineMax-1 {
			return s[:i] + "…"
		}
		n++
	}
	return s
}

// Errors a Store returns.
var (
	ErrBusy      = errors.New("conversation is busy")
	ErrLeaseLost = errors.New("conversation lock was lost")
)
