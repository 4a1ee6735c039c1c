package bot_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/sangkien/sangkien/bot"
	"github.com/sangkien/sangkien/bot/redisstore"
	"github.com/sangkien/sangkien/bot/redisstore/redistest"
)

// tally is a conversation that records every text it sees in the draft and echoes it,
// so tests can check that no event was lost, none ran twice and the order was kept.
type tally struct{}

func (tally) Respond(_ context.Context, s *bot.Session, ev bot.Event) (bot.Result, error) {
	switch ev.Text {
	case "fail":
		return bot.Result{}, errors.New("step failed")
	case "forget":
		return bot.Result{Forget: true, Replies: []bot.Reply{{Text: "forgotten"}}}, nil
	case "submit":
		return bot.Result{
			Replies:    []bot.Reply{{Text: "submitted"}},
			Submission: &bot.Submission{ID: "sub-" + ev.ID, Reference: "SK-2026-000001", Proposal: bot.Proposal{Kind: bot.KindInitiative}},
		}, nil
	}
	if s.State.Draft == nil {
		s.State.Draft = &bot.Draft{ID: "d1", Proposal: bot.Proposal{Kind: bot.KindFeedback}}
	}
	s.State.History = append(s.State.History, ev.Text)
	return bot.Result{Replies: []bot.Reply{
		{Text: "echo " + ev.Text},
		{Text: "count " + strconv.Itoa(len(s.State.History)), Choices: []bot.Choice{{Label: "OK", Payload: "ok"}}},
	}}, nil
}

func newEngine(t testing.TB, st bot.Store, lockTTL time.Duration) *bot.Engine {
	t.Helper()
	e, err := bot.NewEngine(bot.EngineConfig{Store: st, Conversation: tally{}, LockTTL: lockTTL})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func freshStore(t testing.TB) *redisstore.Store {
	t.Helper()
	st, _ := newStoreWithPrefix(t)
	return st
}

func newStoreWithPrefix(t testing.TB) (*redisstore.Store, string) {
	t.Helper()
	p := redistest.Prefix(t)
	return redisstore.New(redistest.Client(t), redisstore.Options{Prefix: p}), p
}

var conv = bot.ConversationRef{Channel: bot.Telegram, ID: "4242"}

func text(id, s string) bot.Event {
	return bot.Event{ID: id, Conversation: conv, Kind: bot.EventText, Text: s}
}

func history(t *testing.T, st *redisstore.Store) []string {
	t.Helper()
	s, err := st.Session(context.Background(), conv)
	if err != nil {
		t.Fatal(err)
	}
	if s == nil {
		return nil
	}
	return s.State.History
}

func TestHandleStoresEffectsAndQueuesReplies(t *testing.T) {
	ctx := context.Background()
	st := freshStore(t)
	e := newEngine(t, st, 0)
	out, err := e.Handle(ctx, text("1", "xin chào"))
	if err != nil {
		t.Fatal(err)
	}
	if out.Duplicate || len(out.Replies) != 2 || out.Replies[0].ID != "1/0" || out.Replies[1].ID != "1/1" {
		t.Fatalf("outcome = %+v", out)
	}
	tr, err := st.Transcript(ctx, conv, 10)
	if err != nil {
		t.Fatal(err)
	}
	dirs := []bot.Direction{}
	for _, en := range tr {
		dirs = append(dirs, en.Dir)
	}
	if want := []bot.Direction{bot.Inbound, bot.Outgoing, bot.Outgoing}; !slices.Equal(dirs, want) {
		t.Fatalf("transcript directions = %v, want %v", dirs, want)
	}
	if tr[0].Text != "xin chào" || tr[1].Text != "echo xin chào" {
		t.Fatalf("transcript = %+v", tr)
	}
	n, err := redistest.Client(t).XLen(ctx, st.OutboundStream(redisstore.ShardOf(conv), bot.Telegram)).Result()
	if err != nil || n != 2 {
		t.Fatalf("queued replies = %d, %v; want 2", n, err)
	}
}

func TestDirectChannelRepliesAreNotQueued(t *testing.T) {
	ctx := context.Background()
	st := freshStore(t)
	e, err := bot.NewEngine(bot.EngineConfig{Store: st, Conversation: tally{}, Direct: []bot.Channel{bot.Terminal}})
	if err != nil {
		t.Fatal(err)
	}
	term := bot.ConversationRef{Channel: bot.Terminal, ID: "local"}
	out, err := e.Handle(ctx, bot.Event{ID: "t1", Conversation: term, Kind: bot.EventText, Text: "hi"})
	if err != nil || len(out.Replies) != 2 {
		t.Fatalf("Handle = %+v, %v", out, err)
	}
	n, err := redistest.Client(t).Exists(ctx, st.OutboundStream(redisstore.ShardOf(term), bot.Terminal)).Result()
	if err != nil || n != 0 {
		t.Fatalf("terminal replies were queued (exists=%d, %v)", n, err)
	}
}

// News from elsewhere (a status change) for a terminal conversation is queued, since
// nobody is at the terminal to be shown the outcome; the terminal takes it when the
// citizen is back, once.
func TestDirectChannelNewsIsQueued(t *testing.T) {
	ctx := context.Background()
	st := freshStore(t)
	e, err := bot.NewEngine(bot.EngineConfig{Store: st, Conversation: tally{}, Direct: []bot.Channel{bot.Terminal}})
	if err != nil {
		t.Fatal(err)
	}
	term := bot.ConversationRef{Channel: bot.Terminal, ID: "local"}
	other := bot.ConversationRef{Channel: bot.Terminal, ID: "someone-else"}
	for _, c := range []bot.ConversationRef{term, other} {
		if _, err := e.Handle(ctx, bot.Event{ID: "s-" + c.ID, Conversation: c, Kind: bot.EventStatus, Status: &bot.StatusChange{SubmissionID: "sub-1", Status: "accepted"}}); err != nil {
			t.Fatal(err)
		}
	}
	got, err := st.TakeQueued(ctx, term)
	if err != nil || len(got) != 2 || got[0].Conversation != term {
		t.Fatalf("TakeQueued = %+v, %v; want the two replies to the status event", got, err)
	}
	if again, err := st.TakeQueued(ctx, term); err != nil || len(again) != 0 {
		t.Fatalf("taken twice: %+v, %v", again, err)
	}
	if theirs, err := st.TakeQueued(ctx, other); err != nil || len(theirs) != 2 {
		t.Fatalf("the other conversation's news = %+v, %v", theirs, err)
	}
}

func TestDuplicateEventIsAcknowledgedNotRun(t *testing.T) {
	ctx := context.Background()
	st := freshStore(t)
	e := newEngine(t, st, 0)
	for i := range 3 {
		out, err := e.Handle(ctx, text("dup-1", "một lần"))
		if err != nil {
			t.Fatal(err)
		}
		if out.Duplicate != (i > 0) {
			t.Fatalf("delivery %d: Duplicate = %v", i, out.Duplicate)
		}
	}
	if h := history(t, st); !slices.Equal(h, []string{"một lần"}) {
		t.Fatalf("history = %q, want the event once", h)
	}
}

func TestInvalidEventIsRefused(t *testing.T) {
	e := newEngine(t, freshStore(t), 0)
	for _, ev := range []bot.Event{
		{Conversation: conv, Kind: bot.EventText}, // no id
		{ID: "x", Kind: bot.EventText},            // no conversation
		{ID: "x", Conversation: bot.ConversationRef{Channel: bot.Telegram, ID: "a{b}"}, Kind: bot.EventText}, // reserved character
		{ID: "x", Conversation: conv}, // no kind
	} {
		if _, err := e.Handle(context.Background(), ev); err == nil {
			t.Errorf("Handle(%+v) succeeded", ev)
		}
	}
}

func TestConcurrentEventsOfOneConversationKeepArrivalOrder(t *testing.T) {
	ctx := context.Background()
	st := freshStore(t)
	e := newEngine(t, st, 0)
	const n = 50
	// Each goroutine starts once the one before it has taken its place in line, so
	// arrival order is known; all 50 then wait on each other concurrently.
	queued := make(chan struct{})
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			qctx := &queuedContext{Context: ctx, queued: queued}
			if _, err := e.Handle(qctx, text(fmt.Sprintf("c%02d", i), strconv.Itoa(i))); err != nil {
				errs <- err
			}
		}()
		<-queued
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	want := make([]string, n)
	for i := range want {
		want[i] = strconv.Itoa(i)
	}
	if h := history(t, st); !slices.Equal(h, want) {
		t.Fatalf("history = %q\nwant %q", h, want)
	}
	tr, err := st.Transcript(ctx, conv, 3*n)
	if err != nil {
		t.Fatal(err)
	}
	var in []string
	for _, en := range tr {
		if en.Dir == bot.Inbound {
			in = append(in, en.Text)
		}
	}
	if !slices.Equal(in, want) {
		t.Fatalf("inbound transcript = %q", in)
	}
}

// queuedContext says when Handle first asks for its Done channel. Handle waits for the
// conversation's turn on it, after taking its place in line, and looks at the context
// no earlier: so when queued receives, the event is in line.
type queuedContext struct {
	context.Context
	once   sync.Once
	queued chan<- struct{}
}

func (c *queuedContext) Done() <-chan struct{} {
	c.once.Do(func() { c.queued <- struct{}{} })
	return c.Context.Done()
}

func TestTwoEnginesOnOneRedisLoseNothing(t *testing.T) {
	ctx := context.Background()
	st, prefix := newStoreWithPrefix(t)
	// Two engines stand for two gateway processes: they share nothing but Redis.
	a := newEngine(t, st, 0)
	b := newEngine(t, redisstore.New(redistest.Client(t), redisstore.Options{Prefix: prefix}), 0)
	const n = 40
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		e := a
		if i%2 == 1 {
			e = b
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			ev := text(fmt.Sprintf("e%02d", i), strconv.Itoa(i))
			if _, err := e.Handle(ctx, ev); err != nil {
				errs <- err
			}
			// Each event is also delivered to the other process: a duplicate there.
			other := b
			if e == b {
				other = a
			}
			if out, err := other.Handle(ctx, ev); err != nil || !out.Duplicate {
				errs <- fmt.Errorf("redelivery of %s: %+v, %v", ev.ID, out, err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	h := history(t, st)
	slices.SortFunc(h, func(x, y string) int { a, _ := strconv.Atoi(x); b, _ := strconv.Atoi(y); return a - b })
	if len(h) != n || h[0] != "0" || h[n-1] != strconv.Itoa(n-1) || len(slices.Compact(h)) != n {
		t.Fatalf("history has %d entries (%q), want each of %d events once", len(h), h, n)
	}
}

func TestCrashBetweenStepsLeavesNothingAndRedeliveryCompletes(t *testing.T) {
	ctx := context.Background()
	st := freshStore(t)
	const lockTTL = 150 * time.Millisecond
	// The crashed process took the conversation, then died: it never committed and
	// never gave the lock back.
	dying := redistest.NewFaultyStore(st)
	dying.Crash()
	crashed := newEngine(t, dying, lockTTL)
	if _, err := crashed.Handle(ctx, text("c1", "submit")); err == nil {
		t.Fatal("crashed engine reported success")
	}
	// Nothing of the event is stored.
	if s, err := st.Session(ctx, conv); err != nil || s != nil {
		t.Fatalf("session after crash = %+v, %v", s, err)
	}
	claimed, err := st.Claim(ctx, "test", 10, time.Minute, 0)
	if err != nil || len(claimed) != 0 {
		t.Fatalf("outbox after crash = %d items, %v", len(claimed), err)
	}
	// The provider redelivers; another process takes over once the dead lock expires.
	survivor := newEngine(t, st, lockTTL)
	out, err := survivor.Handle(ctx, text("c1", "submit"))
	if err != nil || out.Duplicate || out.Submission == nil {
		t.Fatalf("redelivery = %+v, %v", out, err)
	}
	if out, err := survivor.Handle(ctx, text("c1", "submit")); err != nil || !out.Duplicate {
		t.Fatalf("second redelivery = %+v, %v", out, err)
	}
	claimed, err = st.Claim(ctx, "test", 10, time.Minute, 0)
	if err != nil || len(claimed) != 1 || claimed[0].Submission.ID != "sub-c1" {
		t.Fatalf("outbox = %+v, %v; want the submission once", claimed, err)
	}
}

func TestFailedStepReleasesTheConversation(t *testing.T) {
	ctx := context.Background()
	st := freshStore(t)
	e := newEngine(t, st, time.Minute)
	if _, err := e.Handle(ctx, text("f1", "fail")); err == nil {
		t.Fatal("a failing step succeeded")
	}
	// The lock was given back at once: the next event runs without waiting a minute.
	ctx2, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if _, err := e.Handle(ctx2, text("f2", "after")); err != nil {
		t.Fatal(err)
	}
	// A step that changed the session and then failed leaves nothing stored either.
	stop := errors.New("stop")
	late, err := bot.NewEngine(bot.EngineConfig{Store: st, Conversation: failAfter{tally{}, stop}, LockTTL: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := late.Handle(ctx2, text("f3", "never")); !errors.Is(err, stop) {
		t.Fatalf("Handle = %v, want %v", err, stop)
	}
	if h := history(t, st); !slices.Equal(h, []string{"after"}) {
		t.Fatalf("history = %q", h)
	}
}

// failAfter runs a conversation to its end, session changed and replies made, then
// fails with err: the last moment before the engine commits.
type failAfter struct {
	bot.Conversation
	err error
}

func (f failAfter) Respond(ctx context.Context, s *bot.Session, ev bot.Event) (bot.Result, error) {
	if _, err := f.Conversation.Respond(ctx, s, ev); err != nil {
		return bot.Result{}, err
	}
	return bot.Result{}, f.err
}

func TestForgetErasesSessionAndTranscript(t *testing.T) {
	ctx := context.Background()
	st := freshStore(t)
	e := newEngine(t, st, 0)
	for i, s := range []string{"một", "hai", "forget"} {
		if _, err := e.Handle(ctx, text("g"+strconv.Itoa(i), s)); err != nil {
			t.Fatal(err)
		}
	}
	if s, err := st.Session(ctx, conv); err != nil || s != nil {
		t.Fatalf("session after forget = %+v, %v", s, err)
	}
	tr, err := st.Transcript(ctx, conv, 10)
	if err != nil || len(tr) != 0 {
		t.Fatalf("transcript after forget = %+v, %v", tr, err)
	}
	if out, err := e.Handle(ctx, text("g2", "forget")); err != nil || !out.Duplicate {
		t.Fatalf("redelivered forget = %+v, %v", out, err)
	}
}

func TestWaitingForTheLockHonoursTheContext(t *testing.T) {
	st := freshStore(t)
	dying := redistest.NewFaultyStore(st)
	dying.Crash()
	held := newEngine(t, dying, time.Minute)
	if _, err := held.Handle(context.Background(), text("w1", "x")); err == nil {
		t.Fatal("crash reported success")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if _, err := newEngine(t, st, time.Minute).Handle(ctx, text("w2", "y")); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Handle = %v, want deadline exceeded", err)
	}
}

func TestFailedCommitGivesTheConversationBack(t *testing.T) {
	st := freshStore(t)
	// The next commit fails, as when Redis drops the connection.
	faulty := redistest.NewFaultyStore(st)
	faulty.FailCommits(1)
	e, err := bot.NewEngine(bot.EngineConfig{Store: faulty, Conversation: tally{}, LockTTL: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Handle(context.Background(), text("fc1", "lost")); err == nil {
		t.Fatal("a failed commit reported success")
	}
	// The redelivery runs at once, not after the minute the lock would have lasted.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := e.Handle(ctx, text("fc1", "lost")); err != nil {
		t.Fatal(err)
	}
	if h := history(t, st); !slices.Equal(h, []string{"lost"}) {
		t.Fatalf("history = %q, want the event once", h)
	}
}

func TestStatusNoticeLeavesTheDraftClock(t *testing.T) {
	st := freshStore(t)
	now := time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)
	e, err := bot.NewEngine(bot.EngineConfig{Store: st, Conversation: tally{}, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := e.Handle(ctx, text("d1", "bản nháp")); err != nil {
		t.Fatal(err)
	}
	now = now.Add(48 * time.Hour)
	status := bot.Event{ID: "st1", Conversation: conv, Kind: bot.EventStatus,
		Status: &bot.StatusChange{SubmissionID: "s", Status: bot.StatusAccepted, At: now}}
	if _, err := e.Handle(ctx, status); err != nil {
		t.Fatal(err)
	}
	s, err := st.Session(ctx, conv)
	if err != nil {
		t.Fatal(err)
	}
	if want := now.Add(-48 * time.Hour); !s.State.Updated.Equal(want) || !s.Profile.Updated.Equal(now) {
		t.Errorf("after a status notice: state updated %v (want %v), profile updated %v (want %v)",
			s.State.Updated, want, s.Profile.Updated, now)
	}
}

// silent answers nothing, as a flow does for staff's own message.
type silent struct{}

func (silent) Respond(context.Context, *bot.Session, bot.Event) (bot.Result, error) {
	return bot.Result{Silent: true}, nil
}

// What staff wrote from the provider's own tool is a line staff sent, not one the
// citizen wrote: operators read it as outgoing.
func TestStaffMessageIsOutgoingInTheTranscript(t *testing.T) {
	ctx := context.Background()
	st := freshStore(t)
	e, err := bot.NewEngine(bot.EngineConfig{Store: st, Conversation: silent{}})
	if err != nil {
		t.Fatal(err)
	}
	ev := bot.Event{ID: "s1", Conversation: conv, Kind: bot.EventStaffMessage, Text: "Chào chị, tôi là cán bộ phường."}
	if _, err := e.Handle(ctx, ev); err != nil {
		t.Fatal(err)
	}
	tr, err := st.Transcript(ctx, conv, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(tr) != 1 || tr[0].Dir != bot.Outgoing || tr[0].Kind != "staff" || tr[0].Text != ev.Text {
		t.Errorf("transcript = %+v, want one outgoing staff line with the text", tr)
	}
}

func TestTranscriptLinesAreCapped(t *testing.T) {
	ctx := context.Background()
	st := freshStore(t)
	e := newEngine(t, st, 0)
	long := strings.Repeat("ă", 10_000)
	if _, err := e.Handle(ctx, text("1", long)); err != nil {
		t.Fatal(err)
	}
	tr, err := st.Transcript(ctx, conv, 10)
	if err != nil {
		t.Fatal(err)
	}
	in := tr[0]
	if in.Dir != bot.Inbound || utf8.RuneCountInString(in.Text) != bot.TranscriptLineMax ||
		!strings.HasPrefix(long, strings.TrimSuffix(in.Text, "…")) || !strings.HasSuffix(in.Text, "…") {
		t.Fatalf("inbound line: %d characters, %q…", utf8.RuneCountInString(in.Text), in.Text[:20])
	}
	for _, en := range tr[1:] {
		if utf8.RuneCountInString(en.Text) > bot.TranscriptLineMax {
			t.Errorf("reply line of %d characters", utf8.RuneCountInString(en.Text))
		}
	}
}

// relay answers a console reply as the flows do: a person joined, then their words.
type relay struct{}

func (relay) Respond(_ context.Context, s *bot.Session, ev bot.Event) (bot.Result, error) {
	s.Profile.Mode = bot.ModeHuman
	return bot.Result{Replies: []bot.Reply{{Text: "Cán bộ " + ev.Staff + " đã tham gia."}, {Text: ev.Text}}}, nil
}

// A reply from the console is queued for the citizen's channel, and the transcript holds
// its words once, as the staff member's, with the draft's clock untouched.
func TestConsoleReply(t *testing.T) {
	ctx := context.Background()
	st := freshStore(t)
	e, err := bot.NewEngine(bot.EngineConfig{Store: st, Conversation: relay{}})
	if err != nil {
		t.Fatal(err)
	}
	ev := bot.Event{ID: "c1", Conversation: conv, Kind: bot.EventStaffReply, Staff: "Lan", StaffEmail: "lan@hanoi.gov.vn",
		Text: "Chào bạn, mình là Lan."}
	out, err := e.Handle(ctx, ev)
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Replies) != 2 || out.Replies[1].Reply.Text != ev.Text {
		t.Fatalf("replies = %+v", out.Replies)
	}
	tr, err := st.Transcript(ctx, conv, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(tr) != 2 || tr[1].Kind != "staff_reply" || tr[1].Staff != "Lan" || tr[1].Text != ev.Text || tr[1].Dir != bot.Outgoing ||
		tr[0].Kind != "reply" {
		t.Errorf("transcript = %+v, want the join notice, then the staff's words once", tr)
	}
	s, err := st.Session(ctx, conv)
	if err != nil {
		t.Fatal(err)
	}
	if !s.State.Updated.IsZero() || s.Profile.Mode != bot.ModeHuman {
		t.Errorf("state updated %v, mode %q: a staff reply is not the citizen coming back", s.State.Updated, s.Profile.Mode)
	}
}
