package bot_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sangkien/sangkien/bot"
	"github.com/sangkien/sangkien/bot/redisstore"
	"github.com/sangkien/sangkien/bot/redisstore/redistest"
	"github.com/sangkien/sangkien/broadcast"
)

// fakeSender records every send and answers from a script of errors per reply id.
type fakeSender struct {
	mu     sync.Mutex
	sent   []sentReply
	script map[string][]error // reply id → errors to answer before success
	block  chan struct{}      // when set, every send waits on it (or ctx)
	calls  map[string][]time.Time
	// aborted counts sends given up because the dispatcher stopped them; started
	// counts the calls of Send.
	aborted int
	started atomic.Int32
}

type sentReply struct {
	o  bot.Outbound
	at time.Time
}

func newFakeSender() *fakeSender {
	return &fakeSender{script: map[string][]error{}, calls: map[string][]time.Time{}}
}

func (f *fakeSender) Send(ctx context.Context, o bot.Outbound) error {
	f.started.Add(1)
	if f.block != nil {
		select {
		case <-f.block:
		case <-ctx.Done():
			f.mu.Lock()
			f.aborted++
			f.mu.Unlock()
			return ctx.Err()
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls[o.ID] = append(f.calls[o.ID], time.Now())
	if errs := f.script[o.ID]; len(errs) > 0 {
		f.script[o.ID] = errs[1:]
		return errs[0]
	}
	f.sent = append(f.sent, sentReply{o: o, at: time.Now()})
	return nil
}

func (f *fakeSender) fail(id string, errs ...error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.script[id] = errs
}

func (f *fakeSender) sentIDs() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	ids := make([]string, len(f.sent))
	for i, s := range f.sent {
		ids[i] = s.o.ID
	}
	return ids
}

func (f *fakeSender) callTimes(id string) []time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.calls[id])
}

// queueReplies commits replies for a conversation as the engine does.
func queueReplies(t *testing.T, st *redisstore.Store, conv bot.ConversationRef, ids ...string) {
	t.Helper()
	ctx := context.Background()
	lease, err := st.Begin(ctx, conv, "ev-"+ids[0], time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	var out []bot.Outbound
	for _, id := range ids {
		out = append(out, bot.Outbound{ID: id, Conversation: conv, Lang: "vi", Reply: bot.Reply{Text: "tin " + id}})
	}
	if err := st.Commit(ctx, lease, bot.Change{Session: lease.Session, Replies: out}); err != nil {
		t.Fatal(err)
	}
}

type dispatchRig struct {
	st     *redisstore.Store
	prefix string
	sender *fakeSender
	gone   goneEvents
}

// goneEvents is the event handler of the rig's dispatchers: it keeps the events they
// hand it (the unreachable marks).
type goneEvents chan bot.Event

func (g goneEvents) Handle(_ context.Context, ev bot.Event) (bot.Outcome, error) {
	g <- ev
	return bot.Outcome{}, nil
}

func newRig(t *testing.T) *dispatchRig {
	t.Helper()
	st, prefix := newStoreWithPrefix(t)
	return &dispatchRig{st: st, prefix: prefix, sender: newFakeSender(), gone: make(goneEvents, 16)}
}

// start runs a dispatcher with test-sized waits (shards held for a second) until the
// test ends; stop ends it early.
func (r *dispatchRig) start(t *testing.T, consumer string, st *redisstore.Store, edit func(*bot.DispatcherConfig)) (stop func()) {
	t.Helper()
	return r.startHolding(t, consumer, st, time.Second, edit)
}

// startHolding is start with shards held for hold.
func (r *dispatchRig) startHolding(t *testing.T, consumer string, st *redisstore.Store, hold time.Duration, edit func(*bot.DispatcherConfig)) (stop func()) {
	t.Helper()
	cfg := bot.DispatcherConfig{
		Channel: bot.Telegram, Queue: senderOf(st, consumer, hold), Limiter: st.Delivery(), Sender: r.sender,
		Bulk:  st.Bulk().Sender(bot.Telegram, consumer, redisstore.SenderOptions{Hold: hold, Poll: 10 * time.Millisecond}),
		Limit: 1000, ChatInterval: time.Millisecond, ChatBurst: 100,
		Backoff: 5 * time.Millisecond, MaxBackoff: 20 * time.Millisecond,
		Events: r.gone,
	}
	if edit != nil {
		edit(&cfg)
	}
	d, err := bot.NewDispatcher(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = d.Run(ctx) }()
	var once sync.Once
	stop = func() { once.Do(func() { cancel(); <-done }) }
	t.Cleanup(stop)
	return stop
}

// senderOf is the process consumer's view of st's Telegram queue.
func senderOf(st *redisstore.Store, consumer string, hold time.Duration) bot.DeliveryQueue {
	return st.Delivery().Sender(bot.Telegram, consumer, redisstore.SenderOptions{Hold: hold, Poll: 10 * time.Millisecond})
}

// waitFor polls until cond holds; a deadline only guards against a hang.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func chat(n int) bot.ConversationRef {
	return bot.ConversationRef{Channel: bot.Telegram, ID: strconv.Itoa(1000 + n)}
}

func (r *dispatchRig) queueLen(t *testing.T) int64 {
	t.Helper()
	c := redistest.Client(t)
	var n int64
	for sh := range redisstore.Shards {
		l, err := c.XLen(context.Background(), r.st.OutboundStream(sh, bot.Telegram)).Result()
		if err != nil {
			t.Fatal(err)
		}
		n += l
	}
	return n
}

func TestDispatcherSendsEveryReplyOnceInOrder(t *testing.T) {
	r := newRig(t)
	want := map[string][]string{}
	for c := range 6 {
		conv := chat(c)
		for batch := range 3 {
			ids := []string{}
			for i := range 3 {
				ids = append(ids, fmt.Sprintf("%d-%d-%d", c, batch, i))
			}
			queueReplies(t, r.st, conv, ids...)
			want[conv.Key()] = append(want[conv.Key()], ids...)
		}
	}
	r.start(t, "p1", r.st, nil)
	waitFor(t, "54 sends", func() bool { return len(r.sender.sentIDs()) >= 54 })
	got := map[string][]string{}
	r.sender.mu.Lock()
	for _, s := range r.sender.sent {
		got[s.o.Conversation.Key()] = append(got[s.o.Conversation.Key()], s.o.ID)
	}
	r.sender.mu.Unlock()
	for k, ids := range want {
		if !slices.Equal(got[k], ids) {
			t.Errorf("%s: sent %v, want %v", k, got[k], ids)
		}
	}
	waitFor(t, "an empty queue", func() bool { return r.queueLen(t) == 0 })
}

func TestDispatcherWaitsRetryAfterWithoutHoldingOthers(t *testing.T) {
	r := newRig(t)
	const retryAfter = 700 * time.Millisecond
	r.sender.fail("a-0", &bot.SendError{Failure: bot.RateLimited, Code: 429, RetryAfter: retryAfter})
	queueReplies(t, r.st, chat(1), "a-0", "a-1")
	queueReplies(t, r.st, chat(2), "b-0", "b-1")
	r.start(t, "p1", r.st, nil)
	waitFor(t, "all four replies", func() bool { return len(r.sender.sentIDs()) == 4 })
	ids := r.sender.sentIDs()
	if i, j := slices.Index(ids, "b-1"), slices.Index(ids, "a-0"); i > j {
		t.Errorf("the other conversation waited behind the rate-limited one: %v", ids)
	}
	if i, j := slices.Index(ids, "a-0"), slices.Index(ids, "a-1"); i > j {
		t.Errorf("order lost within the waiting conversation: %v", ids)
	}
	calls := r.sender.callTimes("a-0")
	if len(calls) != 2 {
		t.Fatalf("a-0 tried %d times, want 2", len(calls))
	}
	if gap := calls[1].Sub(calls[0]); gap < retryAfter {
		t.Errorf("retried after %v, earlier than retry_after %v", gap, retryAfter)
	}
}

func TestDispatcherFailureClasses(t *testing.T) {
	r := newRig(t)
	serverErr := &bot.SendError{Failure: bot.Retryable, Code: 502, Detail: "Bad Gateway"}
	r.sender.fail("retry-then-ok", serverErr, errors.New("connection reset"))
	r.sender.fail("always-5xx", serverErr, serverErr, serverErr, serverErr, serverErr, serverErr, serverErr)
	r.sender.fail("bad-request", &bot.SendError{Failure: bot.Permanent, Code: 400, Detail: "Bad Request: chat not found"})
	r.sender.fail("blocked", &bot.SendError{Failure: bot.Gone, Code: 403, Detail: "Forbidden: bot was blocked by the user"})
	queueReplies(t, r.st, chat(1), "retry-then-ok")
	queueReplies(t, r.st, chat(2), "always-5xx")
	queueReplies(t, r.st, chat(3), "bad-request")
	queueReplies(t, r.st, chat(4), "blocked", "after-blocked")
	r.start(t, "p1", r.st, func(c *bot.DispatcherConfig) { c.MaxAttempts = 4 })

	var gone bot.Event
	select {
	case gone = <-r.gone:
	case <-time.After(15 * time.Second):
		t.Fatal("no citizen was marked unreachable")
	}
	if gone.Conversation != chat(4) {
		t.Errorf("unreachable conversation = %v, want %v", gone.Conversation, chat(4))
	}
	if gone.ID != "gone:blocked" || gone.Kind != bot.EventUnfollow {
		t.Errorf("unreachable mark = %s %s, want an unfollow named after the reply", gone.ID, gone.Kind)
	}
	waitFor(t, "an empty queue", func() bool { return r.queueLen(t) == 0 })
	if got := r.sender.sentIDs(); !slices.Equal(got, []string{"retry-then-ok"}) {
		t.Errorf("sent = %v, want only retry-then-ok", got)
	}
	for id, tries := range map[string]int{"retry-then-ok": 3, "always-5xx": 4, "bad-request": 1, "blocked": 1, "after-blocked": 0} {
		if n := len(r.sender.callTimes(id)); n != tries {
			t.Errorf("%s tried %d times, want %d", id, n, tries)
		}
	}
	fails, err := r.st.Delivery().Failures(context.Background(), bot.Telegram, 10)
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]bot.DeliveryFailure{}
	for _, f := range fails {
		byID[f.Outbound.ID] = f
	}
	for id, failure := range map[string]string{"always-5xx": "retryable", "bad-request": "permanent", "blocked": "gone", "after-blocked": "gone"} {
		if byID[id].Failure != failure {
			t.Errorf("failure record of %s = %+v, want %s", id, byID[id], failure)
		}
	}
	if byID["always-5xx"].Attempts != 4 || byID["bad-request"].Code != 400 {
		t.Errorf("failure records lack their details: %+v", byID)
	}
	for id, f := range byID {
		if f.Outbound.Reply.Text != "" || f.Outbound.Conversation.ID == "" {
			t.Errorf("failure record of %s keeps the text or lost the conversation: %+v", id, f.Outbound)
		}
	}
	// The citizen unblocks the bot and writes again: replies queued from now are sent.
	queueReplies(t, r.st, chat(4), "after-return")
	waitFor(t, "the reply to the returning citizen", func() bool { return slices.Contains(r.sender.sentIDs(), "after-return") })
}

func TestDeadDispatchersRepliesAreTakenOver(t *testing.T) {
	r := newRig(t)
	r.sender.block = make(chan struct{})
	queueReplies(t, r.st, chat(1), "x-0", "x-1", "x-2")
	queueReplies(t, r.st, chat(2), "y-0")
	// The first process reads the replies, then dies before sending any of them.
	stop := r.start(t, "dead", r.st, nil)
	c := redistest.Client(t)
	waitFor(t, "the first process to read the replies", func() bool {
		n := int64(0)
		for _, conv := range []bot.ConversationRef{chat(1), chat(2)} {
			p, err := c.XPending(context.Background(), r.st.OutboundStream(redisstore.ShardOf(conv), bot.Telegram), redisstore.DeliveryGroup).Result()
			if err == nil {
				n += p.Count
			}
		}
		return n == 4
	})
	stop()
	close(r.sender.block)
	r.sender.block = nil
	r.start(t, "survivor", redisstore.New(redistest.Client(t), redisstore.Options{Prefix: r.prefix}), nil)
	waitFor(t, "four sends", func() bool { return len(r.sender.sentIDs()) == 4 })
	ids := r.sender.sentIDs()
	x := slices.DeleteFunc(slices.Clone(ids), func(s string) bool { return s[0] != 'x' })
	if !slices.Equal(x, []string{"x-0", "x-1", "x-2"}) {
		t.Errorf("taken-over replies sent as %v", ids)
	}
	waitFor(t, "an empty queue", func() bool { return r.queueLen(t) == 0 })
}

func TestTwoDispatchersShareTheQueue(t *testing.T) {
	r := newRig(t)
	const convs, per = 40, 3
	for c := range convs {
		ids := []string{}
		for i := range per {
			ids = append(ids, fmt.Sprintf("%d/%d", c, i))
		}
		queueReplies(t, r.st, chat(c), ids...)
	}
	r.start(t, "p1", r.st, nil)
	r.start(t, "p2", redisstore.New(redistest.Client(t), redisstore.Options{Prefix: r.prefix}), nil)
	waitFor(t, "every reply", func() bool { return len(r.sender.sentIDs()) >= convs*per })
	time.Sleep(100 * time.Millisecond) // let any double send show itself
	ids := r.sender.sentIDs()
	if len(ids) != convs*per {
		t.Fatalf("%d sends for %d replies", len(ids), convs*per)
	}
	slices.Sort(ids)
	if len(slices.Compact(ids)) != convs*per {
		t.Fatal("a reply was sent twice")
	}
}

// queueBulk queues one bulk message to each of n chats from first, as a broadcast does.
func queueBulk(t *testing.T, st *redisstore.Store, first, n int) {
	t.Helper()
	var msgs []bot.Outbound
	for c := first; c < first+n; c++ {
		msgs = append(msgs, bot.Outbound{ID: fmt.Sprintf("bulk-%d", c), Conversation: chat(c), Lang: "vi", Reply: bot.Reply{Text: "nhắc hạn"}})
	}
	if err := st.QueueBulk(context.Background(), msgs); err != nil {
		t.Fatal(err)
	}
}

// sendTimes are the times of the sends whose id keep accepts, in order.
func (f *fakeSender) sendTimes(keep func(id string) bool) []time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []time.Time
	for _, s := range f.sent {
		if keep(s.o.ID) {
			out = append(out, s.at)
		}
	}
	slices.SortFunc(out, func(a, b time.Time) int { return a.Compare(b) })
	return out
}

// mostWithin is the largest number of times within any one window.
func mostWithin(times []time.Time, window time.Duration) int {
	most := 0
	for i := range times {
		j := i
		for j < len(times) && times[j].Sub(times[i]) < window {
			j++
		}
		most = max(most, j-i)
	}
	return most
}

func isBulk(id string) bool { return strings.HasPrefix(id, "bulk-") }

func TestBulkLimitIsSharedByTwoSenders(t *testing.T) {
	r := newRig(t)
	const n = 75
	queueBulk(t, r.st, 0, n)
	// A window of 1.5 s, counted over 1 s: a send is recorded a moment after its
	// reservation, and on a loaded machine that moment can be long. Without the
	// shared limit, two senders would make about 40 sends in a second.
	limit := func(c *bot.DispatcherConfig) { c.Limit = 30; c.Window = 1500 * time.Millisecond }
	r.start(t, "p1", r.st, limit)
	r.start(t, "p2", redisstore.New(redistest.Client(t), redisstore.Options{Prefix: r.prefix}), limit)
	waitFor(t, "every message", func() bool { return len(r.sender.sentIDs()) >= n })
	time.Sleep(100 * time.Millisecond) // let any double send show itself
	if got := len(r.sender.sentIDs()); got != n {
		t.Fatalf("%d sends for %d messages", got, n)
	}
	if most := mostWithin(r.sender.sendTimes(isBulk), time.Second); most > 30 {
		t.Fatalf("%d bulk sends within one second", most)
	}
}

// Replies are not held behind bulk traffic, nor by the bulk limit: 20 citizens who
// just wrote are answered while a broadcast to 200 others trickles out at 5 a second.
func TestRepliesPassBulk(t *testing.T) {
	r := newRig(t)
	queueBulk(t, r.st, 1000, 200)
	r.start(t, "p1", r.st, func(c *bot.DispatcherConfig) { c.Limit = 5; c.Window = time.Second })
	waitFor(t, "the broadcast to start", func() bool { return len(r.sender.sentIDs()) > 0 })
	for c := range 20 {
		queueReplies(t, r.st, chat(c), fmt.Sprintf("reply-%d", c))
	}
	waitFor(t, "every reply", func() bool { return len(r.sender.sendTimes(func(id string) bool { return !isBulk(id) })) == 20 })
	if bulk := len(r.sender.sendTimes(isBulk)); bulk > 15 {
		t.Fatalf("the replies went out after %d bulk messages: they waited behind the broadcast", bulk)
	}
}

// ReplyLimit, when set, is a ceiling on replies of the whole channel; OneLimit counts
// replies and bulk against the one limit (Zalo's quota).
func TestReplyCeilings(t *testing.T) {
	for _, tt := range []struct {
		name  string
		edit  func(*bot.DispatcherConfig)
		bulk  int
		limit int
	}{
		// Windows of 1.5 s, counted over 1 s: a send is recorded a moment after its
		// reservation, and on a loaded machine that moment can be late by a few hundred
		// milliseconds (12 in a second with windows of 1.1 s once).
		{"reply limit", func(c *bot.DispatcherConfig) { c.ReplyLimit, c.ReplyWindow = 10, 1500*time.Millisecond }, 0, 10},
		{"one limit", func(c *bot.DispatcherConfig) { c.OneLimit, c.Limit, c.Window = true, 10, 1500*time.Millisecond }, 15, 10},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t)
			for c := range 25 {
				queueReplies(t, r.st, chat(c), fmt.Sprintf("reply-%d", c))
			}
			queueBulk(t, r.st, 100, tt.bulk)
			r.start(t, "p1", r.st, tt.edit)
			waitFor(t, "every message", func() bool { return len(r.sender.sentIDs()) == 25+tt.bulk })
			if most := mostWithin(r.sender.sendTimes(func(string) bool { return true }), time.Second); most > tt.limit {
				t.Fatalf("%d sends within one second, want at most %d", most, tt.limit)
			}
		})
	}
}

func TestChatPaceSpacesOneConversation(t *testing.T) {
	r := newRig(t)
	queueReplies(t, r.st, chat(1), "p0", "p1", "p2", "p3")
	r.start(t, "p1", r.st, func(c *bot.DispatcherConfig) { c.ChatInterval = 200 * time.Millisecond; c.ChatBurst = 2 })
	waitFor(t, "four sends", func() bool { return len(r.sender.sentIDs()) == 4 })
	r.sender.mu.Lock()
	defer r.sender.mu.Unlock()
	// Two go at once (the burst); each later one waits for a token.
	if gap := r.sender.sent[3].at.Sub(r.sender.sent[1].at); gap < 350*time.Millisecond {
		t.Errorf("sends 2..4 took %v, want at least two intervals", gap)
	}
}

func TestMaskID(t *testing.T) {
	for in, want := range map[string]string{"tg:123456789": "tg:12*****89", "zl:12": "zl:****", "abcdef": "ab**ef"} {
		if got := bot.MaskID(in); got != want {
			t.Errorf("MaskID(%q) = %q, want %q", in, got, want)
		}
	}
}

// typingSender also shows "typing…".
type typingSender struct {
	*fakeSender
	typing chan bot.ConversationRef
}

func (s typingSender) ShowTyping(_ context.Context, conv bot.ConversationRef) error {
	s.typing <- conv
	return nil
}

func TestTypingShownBeforeAReplyThatMustWait(t *testing.T) {
	r := newRig(t)
	ts := typingSender{fakeSender: r.sender, typing: make(chan bot.ConversationRef, 4)}
	queueReplies(t, r.st, chat(7), "t0", "t1")
	r.start(t, "p1", r.st, func(c *bot.DispatcherConfig) {
		c.Sender = ts
		c.ChatInterval = 2 * time.Second // a wait well above the typing threshold, even on a loaded machine
		c.ChatBurst = 1
	})
	waitFor(t, "two sends", func() bool { return len(r.sender.sentIDs()) == 2 })
	if len(ts.typing) != 1 || <-ts.typing != chat(7) {
		t.Fatalf("typing shown %d times, want once before the paced reply", len(ts.typing))
	}
}

// flakyQueue stands for a Redis that fails now and then: the first calls of Ack and
// of the limiter fail.
type flakyQueue struct {
	bot.DeliveryQueue
	mu                   sync.Mutex
	doneFails, rateFails int
	limiter              bot.RateLimiter
}

func (q *flakyQueue) Ack(ctx context.Context, d bot.Delivery) error {
	q.mu.Lock()
	fail := q.doneFails > 0
	q.doneFails--
	q.mu.Unlock()
	if fail {
		return errors.New("connection refused")
	}
	return q.DeliveryQueue.Ack(ctx, d)
}

func (q *flakyQueue) Reserve(ctx context.Context, key string, limit int, window time.Duration) (time.Duration, error) {
	q.mu.Lock()
	fail := q.rateFails > 0
	q.rateFails--
	q.mu.Unlock()
	if fail {
		return 0, errors.New("connection refused")
	}
	return q.limiter.Reserve(ctx, key, limit, window)
}

func TestDispatcherRidesOutARedisOutage(t *testing.T) {
	r := newRig(t)
	q := &flakyQueue{DeliveryQueue: senderOf(r.st, "p1", time.Second), doneFails: 2, rateFails: 2, limiter: r.st.Delivery()}
	queueReplies(t, r.st, chat(1), "o-0", "o-1")
	r.start(t, "p1", r.st, func(c *bot.DispatcherConfig) { c.Queue = q; c.Limiter = q })
	waitFor(t, "an empty queue", func() bool { return r.queueLen(t) == 0 })
	if got := r.sender.sentIDs(); !slices.Equal(got, []string{"o-0", "o-1"}) {
		t.Fatalf("sent %v, want each reply once, in order", got)
	}
}

func TestNewDispatcherNeedsItsParts(t *testing.T) {
	if _, err := bot.NewDispatcher(bot.DispatcherConfig{Channel: bot.Telegram}); err == nil {
		t.Fatal("a dispatcher without queue, limiter and sender was built")
	}
}

// A process that cannot renew its lease (Redis is out of its reach, not of the
// others') stops sending before the lease runs out, so that the process taking the
// shard over never sends a reply this one is sending.
func TestDispatcherStopsWhenItsLeaseCannotBeRenewed(t *testing.T) {
	r := newRig(t)
	r.sender.block = make(chan struct{})
	client := redistest.Client(t)
	outage := &redistest.Outage{}
	client.AddHook(outage)
	st := redisstore.New(client, redisstore.Options{Prefix: r.prefix})
	queueReplies(t, r.st, chat(1), "stuck")
	r.startHolding(t, "p1", st, 600*time.Millisecond, nil)
	waitFor(t, "the send to start", func() bool { return r.sender.started.Load() == 1 })
	outage.Begin()
	waitFor(t, "the send to be stopped", func() bool {
		r.sender.mu.Lock()
		defer r.sender.mu.Unlock()
		return r.sender.aborted == 1
	})
	if len(r.sender.sentIDs()) != 0 {
		t.Fatal("a reply was sent without a lease")
	}
}

// shardHolders counts the delivery shards each consumer holds, from the leases.
func (r *dispatchRig) shardHolders(t *testing.T) map[string]int {
	t.Helper()
	c := redistest.Client(t)
	held := map[string]int{}
	for sh := range redisstore.Shards {
		v, err := c.Get(context.Background(), fmt.Sprintf("%s:{s%02d}:lease:out:%s", r.prefix, sh, bot.Telegram)).Result()
		if err != nil {
			continue
		}
		holder, _, _ := strings.Cut(v, "/")
		held[holder]++
	}
	return held
}

func (r *dispatchRig) shardHolder(t *testing.T, conv bot.ConversationRef) string {
	t.Helper()
	v, _ := redistest.Client(t).Get(context.Background(),
		fmt.Sprintf("%s:{s%02d}:lease:out:%s", r.prefix, redisstore.ShardOf(conv), bot.Telegram)).Result()
	holder, _, _ := strings.Cut(v, "/")
	return holder
}

// Two gateways share the queue; one is stopped cleanly (as by SIGTERM). It gives its
// shards back and leaves at once, so the survivor sends the next reply of a
// conversation the stopped one served well within the lease period (15 s), within 2 s.
func TestCleanStopHandsShardsOverAtOnce(t *testing.T) {
	r := newRig(t)
	const long = 15 * time.Second
	stops := map[string]func(){
		"p1": r.startHolding(t, "p1", r.st, long, nil),
		"p2": r.startHolding(t, "p2", redisstore.New(redistest.Client(t), redisstore.Options{Prefix: r.prefix}), long, nil),
	}
	waitFor(t, "the shards shared out", func() bool {
		h := r.shardHolders(t)
		return h["p1"] == redisstore.Shards/2 && h["p2"] == redisstore.Shards/2
	})
	conv := chat(1)
	queueReplies(t, r.st, conv, "before-stop")
	waitFor(t, "the first reply", func() bool { return slices.Contains(r.sender.sentIDs(), "before-stop") })
	stopped := r.shardHolder(t, conv)
	survivor := map[string]string{"p1": "p2", "p2": "p1"}[stopped]
	if survivor == "" {
		t.Fatalf("the conversation's shard is held by %q", stopped)
	}
	stops[stopped]()
	queueReplies(t, r.st, conv, "after-stop")
	queued := time.Now()
	waitFor(t, "the reply after the stop", func() bool { return slices.Contains(r.sender.sentIDs(), "after-stop") })
	if took := time.Since(queued); took > 2*time.Second {
		t.Errorf("the survivor sent the next reply %v after the other stopped, want within 2s", took)
	}
	waitFor(t, "the survivor to hold every shard", func() bool { return r.shardHolders(t)[survivor] == redisstore.Shards })
}

// syncBuffer is a log sink safe for the dispatcher's goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// While Redis is out of reach the dispatcher says so once per kind of trouble, not once
// per shard and poll; when Redis is back it says that too.
func TestDispatcherDoesNotFloodTheLogWhileRedisIsDown(t *testing.T) {
	r := newRig(t)
	client := redistest.Client(t)
	outage := &redistest.Outage{}
	client.AddHook(outage)
	var logs syncBuffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	st := redisstore.New(client, redisstore.Options{Prefix: r.prefix, Logger: log})
	opt := redisstore.SenderOptions{Hold: 600 * time.Millisecond, Pickup: 20 * time.Millisecond, Poll: 10 * time.Millisecond, Logger: log}
	r.startHolding(t, "p1", st, 600*time.Millisecond, func(c *bot.DispatcherConfig) {
		c.Queue = st.Delivery().Sender(bot.Telegram, "p1", opt)
		c.Bulk = st.Bulk().Sender(bot.Telegram, "p1", opt)
		c.Logger = log
	})
	queueReplies(t, r.st, chat(1), "before")
	waitFor(t, "the first reply", func() bool { return slices.Contains(r.sender.sentIDs(), "before") })
	outage.Begin()
	time.Sleep(1500 * time.Millisecond) // two and a half lease periods of trouble
	outage.End()
	queueReplies(t, r.st, chat(1), "after")
	waitFor(t, "the reply after the outage", func() bool { return slices.Contains(r.sender.sentIDs(), "after") })
	out := logs.String()
	// About one warning per part per change of state (heartbeat, claims, renewals,
	// and the shards stopped, in a few groups as their leases run out), not one per
	// attempt: the attempts are summed up in the "works again" lines.
	if n := strings.Count(out, "level=WARN"); n > 20 {
		t.Errorf("%d warnings in 1.5 s of outage, want a few:\n%s", n, out)
	}
	if !strings.Contains(out, "works again") {
		t.Errorf("no line saying Redis works again:\n%s", out)
	}
}

// A lane holds at most MaxPending messages in the process; the rest stay queued (and
// free for another process) until one is done.
func TestDispatcherBoundsWhatItHolds(t *testing.T) {
	r := newRig(t)
	r.sender.block = make(chan struct{})
	for c := range 10 {
		queueReplies(t, r.st, chat(c), fmt.Sprintf("m%d", c))
	}
	r.start(t, "p1", r.st, func(c *bot.DispatcherConfig) { c.MaxPending, c.Batch = 2, 1 })
	waitFor(t, "two sends under way", func() bool { return r.sender.started.Load() == 2 })
	time.Sleep(200 * time.Millisecond) // room for a claim too many to show itself
	claimed := int64(0)
	c := redistest.Client(t)
	for sh := range redisstore.Shards {
		if p, err := c.XPending(context.Background(), r.st.OutboundStream(sh, bot.Telegram), redisstore.DeliveryGroup).Result(); err == nil {
			claimed += p.Count
		}
	}
	if claimed != 2 {
		t.Errorf("%d messages claimed with MaxPending 2", claimed)
	}
	close(r.sender.block)
	waitFor(t, "every message", func() bool { return len(r.sender.sentIDs()) == 10 })
}

// testClock is a clock a test sets; reads counts how often it was read, so a test can
// tell the dispatcher has looked at it again without timing anything.
type testClock struct {
	mu    sync.Mutex
	t     time.Time
	reads atomic.Int64
}

func newTestClock(t time.Time) *testClock { return &testClock{t: t} }

func (c *testClock) now() time.Time {
	c.reads.Add(1)
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// readMore waits until the clock has been read n more times: the dispatcher has gone
// round its quiet-hours checks, and whatever it would wrongly send has had its chance.
func (c *testClock) readMore(t *testing.T, n int64) {
	t.Helper()
	from := c.reads.Load()
	waitFor(t, "the dispatcher to read the clock again", func() bool { return c.reads.Load() >= from+n })
}

// hanoi is a time of day on 3 December 2026 in Hà Nội.
func hanoi(hour, minute, sec int) time.Time {
	return time.Date(2026, 12, 3, hour, minute, sec, 0, bot.HoChiMinh())
}

// quietNights sets a dispatcher's quiet hours (the default 21:00-07:00) on clock,
// looked at every few milliseconds, and logs to logs.
func quietNights(t *testing.T, clock *testClock, logs *syncBuffer) func(*bot.DispatcherConfig) {
	t.Helper()
	hours, err := broadcast.ParseQuietHours(broadcast.DefaultQuietHours)
	if err != nil {
		t.Fatal(err)
	}
	return func(c *bot.DispatcherConfig) {
		c.BulkQuiet, c.Now, c.QuietCheck = hours, clock.now, 5*time.Millisecond
		c.Logger = slog.New(slog.NewTextHandler(logs, nil))
	}
}

// bulkQueued counts the bulk messages still queued, and of them those claimed by a
// process.
func (r *dispatchRig) bulkQueued(t *testing.T) (queued, claimed int64) {
	t.Helper()
	c := redistest.Client(t)
	ctx := context.Background()
	for sh := range redisstore.Shards {
		stream := r.st.BulkStream(sh, bot.Telegram)
		n, err := c.XLen(ctx, stream).Result()
		if err != nil {
			t.Fatal(err)
		}
		queued += n
		if p, err := c.XPending(ctx, stream, redisstore.DeliveryGroup).Result(); err == nil {
			claimed += p.Count
		}
	}
	return queued, claimed
}

// sendCounts is how many times each id was sent.
func (f *fakeSender) sendCounts() map[string]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string]int{}
	for _, s := range f.sent {
		out[s.o.ID]++
	}
	return out
}

// At 23:00 in Hà Nội citizens who write are answered, and a broadcast waits; once the
// clock passes 07:00 it goes out by itself, each message once. The log says once that
// bulk paused and once that it resumed.
func TestQuietHoursHoldBulkNotReplies(t *testing.T) {
	r := newRig(t)
	clock := newTestClock(hanoi(23, 0, 0))
	var logs syncBuffer
	const n = 20
	queueBulk(t, r.st, 0, n)
	r.start(t, "p1", r.st, quietNights(t, clock, &logs))
	for c := range 5 { // chats 0-4 have a bulk message waiting too
		queueReplies(t, r.st, chat(c), fmt.Sprintf("reply-%d", c))
	}
	waitFor(t, "every reply", func() bool { return len(r.sender.sendTimes(func(id string) bool { return !isBulk(id) })) == 5 })
	clock.set(hanoi(23, 59, 0))
	clock.readMore(t, 50)
	if sent := r.sender.sendTimes(isBulk); len(sent) != 0 {
		t.Fatalf("%d bulk messages sent in quiet hours", len(sent))
	}
	if queued, _ := r.bulkQueued(t); queued != n {
		t.Fatalf("%d bulk messages queued in quiet hours, want all %d", queued, n)
	}

	clock.set(hanoi(23, 0, 0).Add(8*time.Hour + time.Second)) // 07:00:01 the next day
	waitFor(t, "the broadcast in the morning", func() bool { return len(r.sender.sendTimes(isBulk)) >= n })
	waitFor(t, "an empty bulk queue", func() bool { q, _ := r.bulkQueued(t); return q == 0 })
	clock.readMore(t, 20)
	counts := r.sender.sendCounts()
	for c := range n {
		if id := fmt.Sprintf("bulk-%d", c); counts[id] != 1 {
			t.Errorf("%s sent %d times, want once", id, counts[id])
		}
	}
	out := logs.String()
	if got := strings.Count(out, "held for quiet hours"); got != 1 {
		t.Errorf("%d lines saying bulk paused, want 1:\n%s", got, out)
	}
	if got := strings.Count(out, "bulk messages resume"); got != 1 {
		t.Errorf("%d lines saying bulk resumed, want 1:\n%s", got, out)
	}
}

// Quiet hours that begin while a chat's bulk messages are claimed hold the ones not yet
// being sent: they stay claimed overnight, are given back when the process stops, and
// another process sends each once in the morning. A reply to the same chat goes on.
func TestQuietHoursHoldWhatIsAlreadyClaimed(t *testing.T) {
	r := newRig(t)
	clock := newTestClock(hanoi(20, 59, 0))
	var logs syncBuffer
	var msgs []bot.Outbound
	for i := range 4 {
		msgs = append(msgs, bot.Outbound{ID: fmt.Sprintf("bulk-a%d", i), Conversation: chat(1), Lang: "vi", Reply: bot.Reply{Text: "nhắc hạn"}})
	}
	if err := r.st.QueueBulk(context.Background(), msgs); err != nil {
		t.Fatal(err)
	}
	r.sender.block = make(chan struct{})
	stop := r.start(t, "p1", r.st, quietNights(t, clock, &logs))
	waitFor(t, "the first bulk send under way", func() bool { return r.sender.started.Load() == 1 })
	waitFor(t, "every message claimed", func() bool { _, c := r.bulkQueued(t); return c == 4 })
	clock.set(hanoi(21, 0, 0))
	close(r.sender.block) // the send under way ends; the next ones meet the quiet hours
	queueReplies(t, r.st, chat(1), "reply-night")
	waitFor(t, "the reply at night", func() bool { return slices.Contains(r.sender.sentIDs(), "reply-night") })
	clock.readMore(t, 50)
	if got := r.sender.sendTimes(isBulk); len(got) != 1 {
		t.Fatalf("%d bulk messages sent, want only the one under way when quiet hours began", len(got))
	}
	if queued, claimed := r.bulkQueued(t); queued != 3 || claimed != 3 {
		t.Fatalf("%d bulk messages queued and %d claimed at night, want 3 held", queued, claimed)
	}

	stop() // the process ends in the night and gives back what it held
	clock.set(hanoi(7, 0, 0).AddDate(0, 0, 1))
	r.start(t, "p2", redisstore.New(redistest.Client(t), redisstore.Options{Prefix: r.prefix}), quietNights(t, clock, &logs))
	waitFor(t, "the held messages in the morning", func() bool { q, _ := r.bulkQueued(t); return q == 0 })
	clock.readMore(t, 20)
	var bulk []string
	for _, id := range r.sender.sentIDs() {
		if isBulk(id) {
			bulk = append(bulk, id)
		}
	}
	if want := []string{"bulk-a0", "bulk-a1", "bulk-a2", "bulk-a3"}; !slices.Equal(bulk, want) {
		t.Errorf("bulk sent %v, want %v: each once, in order", bulk, want)
	}
}

// countingLimiter counts the reservations asked of a real limiter.
type countingLimiter struct {
	bot.RateLimiter
	asked atomic.Int32
}

func (l *countingLimiter) Reserve(ctx context.Context, key string, limit int, window time.Duration) (time.Duration, error) {
	l.asked.Add(1)
	return l.RateLimiter.Reserve(ctx, key, limit, window)
}

// Quiet hours that begin while bulk messages wait for their turn under the bot-wide
// limit hold them too, though they passed the check before: none goes out at night.
func TestQuietHoursBeginWhileBulkWaitsForTheLimit(t *testing.T) {
	r := newRig(t)
	clock := newTestClock(hanoi(20, 59, 59))
	var logs syncBuffer
	queueBulk(t, r.st, 0, 3)
	r.sender.block = make(chan struct{})
	limiter := &countingLimiter{RateLimiter: r.st.Delivery()}
	quiet := quietNights(t, clock, &logs)
	r.start(t, "p1", r.st, func(c *bot.DispatcherConfig) {
		quiet(c)
		// One bulk message per 2 s: the two after the first wait for their turn.
		c.Limiter, c.Limit, c.Window = limiter, 1, 2*time.Second
	})
	waitFor(t, "the first bulk send under way", func() bool { return r.sender.started.Load() == 1 })
	// The second asks the limit and waits for its slot; the third waits its turn to ask
	// in the process (one send of a lane asks at a time).
	waitFor(t, "the second waiting for the limit", func() bool { return limiter.asked.Load() >= 2 })
	clock.set(hanoi(21, 0, 0))
	close(r.sender.block)
	waitFor(t, "the second to have had its slot", func() bool { return limiter.asked.Load() >= 3 })
	clock.readMore(t, 50)
	if got := r.sender.sendTimes(isBulk); len(got) != 1 {
		t.Fatalf("%d bulk messages sent, want only the one under way when quiet hours began", len(got))
	}
	clock.set(hanoi(7, 0, 0).AddDate(0, 0, 1))
	waitFor(t, "the held messages in the morning", func() bool { q, _ := r.bulkQueued(t); return q == 0 })
	counts := r.sender.sendCounts()
	for c := range 3 {
		if id := fmt.Sprintf("bulk-%d", c); counts[id] != 1 {
			t.Errorf("%s sent %d times, want once", id, counts[id])
		}
	}
}
