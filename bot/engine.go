package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"
)

// Conversation decides what an event does to a session: flows.Router implements it.
// It changes the session in place and returns the replies and effects.
type Conversation interface {
	Respond(ctx context.Context, s *Session, ev Event) (Result, error)
}

// Result is what a conversation step produced.
type Result struct {
	Replies    []Reply
	Submission *Submission
	// Forget erases the citizen's session, drafts, transcript and subscriptions.
	Forget bool
	// Silent events are stored in the transcript but answered by no one (human mode).
	Silent bool
	// Missed: the conversation refused the citizen's answer and asked again. Back: the
	// citizen went back a step. The step metrics need them (steps.go).
	Missed, Back bool
}

// Outcome is what Handle did with an event.
type Outcome struct {
	Duplicate  bool
	Replies    []Outbound
	Submission *Submission
	// Steps are what the event did at the steps of a flow (steps.go), and Answer the
	// first staff answer of a wait for a person it was: the metrics count them.
	Steps  []StepMove
	Answer *AnswerPair
}

// EngineConfig configures an Engine.
type EngineConfig struct {
	Store        Store
	Conversation Conversation
	Logger       *slog.Logger
	Now          func() time.Time
	// LockTTL bounds how long a crashed process can hold a conversation (default 30s).
	LockTTL time.Duration
	// Direct lists channels that answer synchronously from Outcome (the terminal):
	// the replies to what the citizen sent there are not queued for delivery. Replies
	// to news from elsewhere (a status change) are queued all the same, for the
	// channel to show when the citizen is back.
	Direct []Channel
}

// Engine runs events through the conversation: dedupe, per-conversation serialization,
// load, respond, and one atomic commit of session, transcript, replies and submission.
type Engine struct {
	store   Store
	conv    Conversation
	log     *slog.Logger
	now     func() time.Time
	lockTTL time.Duration
	direct  map[Channel]bool
	lines   lines
}

// NewEngine builds an Engine.
func NewEngine(cfg EngineConfig) (*Engine, error) {
	if cfg.Store == nil || cfg.Conversation == nil {
		return nil, errors.New("engine: store and conversation are required")
	}
	e := &Engine{
		store:   cfg.Store,
		conv:    cfg.Conversation,
		log:     cfg.Logger,
		now:     cfg.Now,
		lockTTL: cfg.LockTTL,
		direct:  map[Channel]bool{},
		lines:   lines{m: map[string][]chan struct{}{}},
	}
	if e.log == nil {
		e.log = slog.New(slog.DiscardHandler)
	}
	e.log = e.log.With("component", "engine")
	if e.now == nil {
		e.now = time.Now
	}
	if e.lockTTL <= 0 {
		e.lockTTL = 30 * time.Second
	}
	for _, ch := range cfg.Direct {
		e.direct[ch] = true
	}
	return e, nil
}

// Handle runs one event. Events of one conversation run one at a time, in the order
// Handle was called within this process, and one at a time across processes sharing
// the store. A repeated event id is acknowledged with Outcome.Duplicate and not run.
// When Handle returns nil, all of the event's effects are stored.
func (e *Engine) Handle(ctx context.Context, ev Event) (Outcome, error) {
	if err := ev.Validate(); err != nil {
		return Outcome{}, err
	}
	if ev.At.IsZero() {
		ev.At = e.now()
	}
	turn, leave := e.lines.enter(ev.Conversation.Key())
	defer leave()
	select {
	case <-turn:
	case <-ctx.Done():
		return Outcome{}, fmt.Errorf("event %s waiting its turn: %w", ev.ID, ctx.Err())
	}

	lease, err := e.begin(ctx, ev)
	if err != nil {
		return Outcome{}, err
	}
	if lease.Duplicate {
		e.log.DebugContext(ctx, "duplicate event acknowledged", "conversation", MaskID(ev.Conversation.Key()), "event", ev.ID)
		return Outcome{Duplicate: true}, nil
	}
	out, change, err := e.respond(ctx, lease, ev)
	if err != nil {
		if rerr := e.store.Release(context.WithoutCancel(ctx), lease); rerr != nil {
			e.log.WarnContext(ctx, "release after failure", "conversation", MaskID(ev.Conversation.Key()), "err", rerr)
		}
		return Outcome{}, err
	}
	// The commit runs to its end even when the caller gives up (a webhook client that
	// disconnected): its effects are all written or none, and the lock is given back
	// either way, so the conversation is not held for LockTTL.
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), commitTimeout)
	defer cancel()
	if err := e.store.Commit(cctx, lease, change); err != nil {
		if !errors.Is(err, ErrLeaseLost) {
			if rerr := e.store.Release(cctx, lease); rerr != nil {
				e.log.WarnContext(ctx, "release after a failed commit", "conversation", MaskID(ev.Conversation.Key()), "err", rerr)
			}
		}
		return Outcome{}, fmt.Errorf("commit event %s: %w", ev.ID, err)
	}
	return out, nil
}

// commitTimeout bounds a commit that no longer has its caller's deadline.
const commitTimeout = 10 * time.Second

// busyWait paces the retries of an event whose conversation another process holds:
// a few milliseconds at first (most events take about that long), at most 200ms.
var busyWait = Backoff{Base: 4 * time.Millisecond, Max: 200 * time.Millisecond}

// begin takes the conversation's lock, waiting while another process holds it.
func (e *Engine) begin(ctx context.Context, ev Event) (*Lease, error) {
	for n := 1; ; n++ {
		lease, err := e.store.Begin(ctx, ev.Conversation, ev.ID, e.lockTTL)
		if !errors.Is(err, ErrBusy) {
			if err != nil {
				return nil, fmt.Errorf("begin event %s: %w", ev.ID, err)
			}
			return lease, nil
		}
		if err := Sleep(ctx, busyWait.Wait(n)); err != nil {
			return nil, fmt.Errorf("begin event %s: %w", ev.ID, err)
		}
	}
}

// respond runs the conversation and gathers the change to commit.
func (e *Engine) respond(ctx context.Context, lease *Lease, ev Event) (Outcome, Change, error) {
	s := lease.Session
	if s == nil {
		s = &Session{Conversation: ev.Conversation, New: true}
	}
	s.Conversation = ev.Conversation
	if err := checkHold(ev, s); err != nil {
		return Outcome{}, Change{}, fmt.Errorf("event %s: %w", ev.ID, err)
	}
	wasHuman, prior, was, audience, from := s.Profile.Mode == ModeHuman, s.Profile.Desk, beforeOf(s), audienceBefore(s), placeOf(s)
	res, err := e.conv.Respond(ctx, s, ev)
	if err != nil {
		return Outcome{}, Change{}, fmt.Errorf("respond to event %s: %w", ev.ID, err)
	}
	now := e.now()
	followPrograms(s, res.Submission)
	s.Profile.Indexed = true
	s.Profile.Desk.Follow(ev, wasHuman, s, now)
	if s.Profile.Created.IsZero() {
		s.Profile.Created = now
	}
	s.Profile.Updated = now
	s.Profile.NoteInbound(ev.Kind, ev.At, now)
	if ev.Kind != EventStatus && !ev.Kind.FromStaff() {
		// A notice from the city (or staff writing from the provider's tool) is not the
		// citizen coming back: the draft's clock, and
		// with it the offer to continue an old draft, go by the citizen's own messages.
		s.State.Updated = now
	}

	change := Change{Session: s, Forget: res.Forget, Submission: res.Submission, PriorDesk: prior,
		Tally: tally(ev, was, s, prior, res.Submission, now), Audience: AudienceChange{Before: audience}}
	if !res.Forget {
		change.Audience.After = AudiencesOf(s)
	}
	dir := Inbound
	if ev.Kind.FromStaff() {
		dir = Outgoing // staff acting towards the citizen
	}
	if ev.Kind != EventStaffReply {
		// A console reply's words are one of the replies below: written there, once.
		change.Transcript = append(change.Transcript, TranscriptEntry{
			Dir: dir, EventID: ev.ID, Kind: string(ev.Kind), Text: transcriptLine(Summarize(ev)), At: ev.At, Staff: ev.Staff,
			Attachments: storedAttachments(ev.Attachments), Location: ev.Location,
		})
	}
	out := Outcome{Submission: res.Submission, Steps: stepMoves(from, placeOf(s), res), Answer: change.Tally.Answer}
	for i, r := range res.Replies {
		o := Outbound{
			ID:           ev.ID + "/" + strconv.Itoa(i),
			Conversation: ev.Conversation,
			Lang:         s.Profile.Lang,
			Reply:        r,
			Track:        ev.Kind.FromConsole(),
		}
		out.Replies = append(out.Replies, o)
		line := TranscriptEntry{Dir: Outgoing, EventID: o.ID, Kind: "reply", Text: transcriptLine(r.Text), At: now}
		if ev.Kind == EventStaffReply && r.Text == ev.Text {
			line.Kind, line.Staff = string(EventStaffReply), ev.Staff
		}
		change.Transcript = append(change.Transcript, line)
	}
	if !e.direct[ev.Conversation.Channel] || !ev.Kind.FromCitizen() {
		change.Replies = out.Replies
	}
	return out, change, nil
}

// storedAttachments are the attachments as a transcript keeps them: the provider's
// reference, never a signed link (links expire; the console signs its own).
func storedAttachments(as []Attachment) []Attachment {
	if len(as) == 0 {
		return nil
	}
	out := make([]Attachment, len(as))
	for i, a := range as {
		a.URL = ""
		out[i] = a
	}
	return out
}

// lines keeps events of one conversation in this process in arrival order: each waits
// for the one before it to leave.
type lines struct {
	mu sync.Mutex
	m  map[string][]chan struct{}
}

// enter takes a place in the conversation's line. turn is closed when it is this
// caller's turn; leave must be called once, whether or not the turn came.
func (l *lines) enter(key string) (turn <-chan struct{}, leave func()) {
	l.mu.Lock()
	defer l.mu.Unlock()
	ch := make(chan struct{})
	q := l.m[key]
	if len(q) == 0 {
		close(ch)
	}
	l.m[key] = append(q, ch)
	return ch, func() { l.leave(key, ch) }
}

func (l *lines) leave(key string, ch chan struct{}) {
	l.mu.Lock()
	defer l.mu.Unlock()
	q := l.m[key]
	for i, c := range q {
		if c != ch {
			continue
		}
		q = append(q[:i:i], q[i+1:]...)
		if i == 0 && len(q) > 0 {
			close(q[0])
		}
		break
	}
	if len(q) == 0 {
		delete(l.m, key)
		return
	}
	l.m[key] = q
}
