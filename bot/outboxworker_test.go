package bot_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sangkien/sangkien/bot"
	"github.com/sangkien/sangkien/bot/bottest"
	"github.com/sangkien/sangkien/bot/redisstore"
	"github.com/sangkien/sangkien/bot/redisstore/redistest"
)

func TestOutboxWorker(t *testing.T) {
	tests := []struct {
		name    string
		subs    int
		workers int
		// failFirst makes the intake refuse the first delivery of these submissions.
		failFirst []string
		// wantCalls is how often the intake is called per submission (default 1).
		wantCalls map[string]int
	}{
		{name: "delivered once", subs: 3, workers: 1},
		{name: "failure then retry", subs: 3, workers: 1, failFirst: []string{"sub-1"},
			wantCalls: map[string]int{"sub-1": 2}},
		{name: "two workers share the outbox", subs: 30, workers: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := newStore(t)
			in := newFakeIntake(tt.failFirst...)
			var want []string
			for i := range tt.subs {
				id := fmt.Sprintf("sub-%d", i)
				want = append(want, id)
				enqueue(t, store, id)
			}

			ctx, cancel := context.WithCancel(context.Background())
			var wg sync.WaitGroup
			for i := range tt.workers {
				w := bot.NewOutboxWorker(store, in, nil, fmt.Sprintf("worker-%d", i))
				// A failed item comes back soon; a claimed item is never taken from a
				// live worker in the time this test runs unless it failed first.
				w.Idle, w.Block, w.Backoff = 200*time.Millisecond, 100*time.Millisecond, 10*time.Millisecond
				if len(tt.failFirst) == 0 {
					w.Idle = time.Minute
				}
				wg.Go(func() {
					if err := w.Run(ctx); err != nil {
						t.Errorf("worker %d: %v", i, err)
					}
				})
			}
			in.waitDelivered(t, want)
			cancel()
			wg.Wait()

			calls := in.snapshot()
			for _, id := range want {
				n := 1
				if w, ok := tt.wantCalls[id]; ok {
					n = w
				}
				if calls[id] != n {
					t.Errorf("%s: intake called %d times, want %d", id, calls[id], n)
				}
			}
			left, err := store.Claim(context.Background(), "check", 100, 0, time.Millisecond)
			if err != nil {
				t.Fatal(err)
			}
			if len(left) != 0 {
				t.Errorf("%d items left in the outbox after delivery", len(left))
			}
		})
	}
}

// Two workers share an outbox while the intake is slow: each delivery takes longer than
// Idle, and a batch far longer. A live worker keeps its claims, so no submission is
// taken over and delivered twice, whether it waits in a batch, in the store's spare
// items (Batch 1), or is being delivered.
func TestOutboxWorkerSlowIntake(t *testing.T) {
	tests := []struct {
		name  string
		batch int
	}{
		{name: "batches", batch: 10},
		{name: "one at a time, the rest spare", batch: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := newStore(t)
			in := newFakeIntake()
			in.delay = 400 * time.Millisecond
			var want []string
			for i := range 4 {
				id := fmt.Sprintf("slow-%d", i)
				want = append(want, id)
				enqueue(t, store, id)
			}
			ctx, cancel := context.WithCancel(context.Background())
			var wg sync.WaitGroup
			for i := range 2 {
				w := bot.NewOutboxWorker(store, in, nil, fmt.Sprintf("worker-%d", i))
				w.Batch = tt.batch
				// Idle leaves renewals (every third of it) room on a loaded machine.
				w.Idle, w.Block, w.Backoff = 300*time.Millisecond, 20*time.Millisecond, 10*time.Millisecond
				wg.Go(func() { _ = w.Run(ctx) })
			}
			in.waitDelivered(t, want)
			// Give a wrongly reclaimed item time to be delivered again: longer than
			// Idle and one delivery.
			time.Sleep(700 * time.Millisecond)
			cancel()
			wg.Wait()
			for id, n := range in.snapshot() {
				if n != 1 {
					t.Errorf("%s: intake called %d times, want 1", id, n)
				}
			}
		})
	}
}

// stealingStore lets another consumer take the batch over between the claim and the
// delivery, as after a pause of the worker longer than Idle.
type stealingStore struct {
	*redisstore.Store
	once  sync.Once
	steal func()
	// lost is closed once the worker learnt an item is no longer its own.
	lost     chan struct{}
	lostOnce sync.Once
}

func (s *stealingStore) Outbox(worker string, idle, block time.Duration) bot.Outbox {
	return stealingOutbox{Outbox: s.Store.Outbox(worker, idle, block), s: s}
}

// stealingOutbox is the worker's view of a stealingStore.
type stealingOutbox struct {
	bot.Outbox
	s *stealingStore
}

func (o stealingOutbox) Claim(ctx context.Context, n int) ([]bot.OutboxItem, error) {
	items, err := o.Outbox.Claim(ctx, n)
	if len(items) > 0 {
		o.s.once.Do(o.s.steal)
	}
	return items, err
}

func (o stealingOutbox) Renew(ctx context.Context, items []bot.OutboxItem) ([]bool, error) {
	mine, err := o.Outbox.Renew(ctx, items)
	for _, m := range mine {
		if !m {
			o.s.lostOnce.Do(func() { close(o.s.lost) })
		}
	}
	return mine, err
}

// An item another worker took over before its turn is skipped, not delivered twice.
func TestOutboxWorkerSkipsItemTakenOver(t *testing.T) {
	client, prefix := redistest.Client(t), redistest.Prefix(t)
	base := redisstore.New(client, redisstore.Options{Prefix: prefix})
	enqueue(t, base, "taken")
	var stolen []bot.OutboxItem
	store := &stealingStore{Store: base, lost: make(chan struct{})}
	store.steal = func() {
		var err error
		// The victim's claims run out (a pause longer than Idle), then the thief claims
		// with idle 0: every pending item nobody holds is claimable at once.
		expireOutboxLeases(t, client, prefix)
		stolen, err = base.Claim(context.Background(), "thief", 10, 0, 2*time.Second)
		if err != nil {
			t.Errorf("thief's claim: %v", err)
		}
	}
	in := newFakeIntake()
	w := bot.NewOutboxWorker(store, in, nil, "victim")
	w.Block = 20 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { _ = w.Run(ctx) })
	select {
	case <-store.lost:
	case <-time.After(10 * time.Second):
		t.Error("the worker never noticed the item was taken over")
	}
	cancel()
	wg.Wait()
	if len(stolen) != 1 {
		t.Fatalf("the thief took %d items, want 1", len(stolen))
	}
	if n := in.snapshot()["taken"]; n != 0 {
		t.Errorf("the worker delivered an item it no longer held %d times", n)
	}
	// The thief still has it, to deliver and acknowledge.
	if mine, err := base.Hold(context.Background(), "thief", stolen, time.Minute); err != nil || !mine[0] {
		t.Errorf("thief's hold = %v, %v; want it still the thief's", mine, err)
	}
}

// A cancelled worker returns nil at once even while its claims find nothing.
func TestOutboxWorkerStops(t *testing.T) {
	store := newStore(t)
	w := bot.NewOutboxWorker(store, newFakeIntake(), nil, "idle")
	w.Block = 50 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run after cancel = %v, want nil", err)
	}
}

func newStore(t *testing.T) *redisstore.Store {
	t.Helper()
	return redisstore.New(redistest.Client(t), redisstore.Options{Prefix: redistest.Prefix(t)})
}

// enqueue commits a submission as the engine does, which puts it in the outbox.
func enqueue(t *testing.T, store *redisstore.Store, id string) {
	t.Helper()
	ctx := context.Background()
	conv := bot.ConversationRef{Channel: bot.Terminal, ID: "c-" + id}
	lease, err := store.Begin(ctx, conv, "ev-"+id, 10*time.Second)
	if err != nil {
		t.Fatalf("begin: %v", err)
	}
	sub := bot.Submission{
		ID: id, Reference: "SK-2026-" + id, Proposal: bot.Proposal{Kind: bot.KindInitiative},
		Conversation: conv, Lang: "vi", SubmittedAt: time.Now(),
	}
	err = store.Commit(ctx, lease, bot.Change{
		Session:    &bot.Session{Conversation: conv},
		Submission: &sub,
	})
	if err != nil {
		t.Fatalf("commit: %v", err)
	}
}

// fakeIntake counts deliveries per submission and refuses the first try of some.
type fakeIntake struct {
	// delay is how long each delivery takes.
	delay     time.Duration
	mu        sync.Mutex
	calls     map[string]int
	delivered map[string]bool
	failFirst map[string]bool
	changed   chan struct{}
}

func newFakeIntake(failFirst ...string) *fakeIntake {
	f := &fakeIntake{
		calls:     map[string]int{},
		delivered: map[string]bool{},
		failFirst: map[string]bool{},
		changed:   make(chan struct{}, 1),
	}
	for _, id := range failFirst {
		f.failFirst[id] = true
	}
	return f
}

func (f *fakeIntake) Deliver(_ context.Context, s bot.Submission) (bot.Receipt, error) {
	time.Sleep(f.delay)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls[s.ID]++
	if f.failFirst[s.ID] && f.calls[s.ID] == 1 {
		return bot.Receipt{}, errors.New("intake unavailable")
	}
	f.delivered[s.ID] = true
	select {
	case f.changed <- struct{}{}:
	default:
	}
	return bot.Receipt{IntakeID: "in-" + s.ID, Status: "received"}, nil
}

func (f *fakeIntake) snapshot() map[string]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	m := make(map[string]int, len(f.calls))
	for k, v := range f.calls {
		m[k] = v
	}
	return m
}

// waitDelivered waits until every id was delivered; a generous bound keeps a broken
// worker from hanging the suite.
func (f *fakeIntake) waitDelivered(t *testing.T, ids []string) {
	t.Helper()
	bound := time.After(20 * time.Second)
	for {
		f.mu.Lock()
		n := 0
		for _, id := range ids {
			if f.delivered[id] {
				n++
			}
		}
		f.mu.Unlock()
		if n == len(ids) {
			return
		}
		select {
		case <-f.changed:
		case <-bound:
			t.Fatalf("delivered %d of %d submissions", n, len(ids))
		}
	}
}

// scriptedIntake answers each submission's attempts from a script of errors (nil is a
// success) and records when each attempt came.
type scriptedIntake struct {
	mu     sync.Mutex
	script map[string][]error
	times  map[string][]time.Time
}

func (s *scriptedIntake) Deliver(_ context.Context, sub bot.Submission) (bot.Receipt, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.times[sub.ID] = append(s.times[sub.ID], time.Now())
	if q := s.script[sub.ID]; len(q) > 0 {
		s.script[sub.ID] = q[1:]
		if q[0] != nil {
			return bot.Receipt{}, q[0]
		}
	}
	return bot.Receipt{IntakeID: "city-" + sub.ID}, nil
}

func (s *scriptedIntake) attempts(id string) []time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Time(nil), s.times[id]...)
}

func TestOutboxWorkerFailures(t *testing.T) {
	permanent := &bot.SendError{Failure: bot.Permanent, Code: 422, Detail: `{"error":"bad field"}`}
	tests := []struct {
		name   string
		script []error
		// failOnce makes OnDelivered fail the first time.
		failOnce bool
		// wantAttempts is how often the intake is asked; wantFailed: the failed list.
		wantAttempts int
		wantFailed   bool
		minGap       time.Duration
	}{
		{name: "retryable, then delivered", script: []error{errors.New("connection reset"), &bot.SendError{Failure: bot.Retryable, Code: 502}},
			wantAttempts: 3},
		{name: "Retry-After honoured", script: []error{&bot.SendError{Failure: bot.RateLimited, Code: 429, RetryAfter: 600 * time.Millisecond}},
			wantAttempts: 2, minGap: 600 * time.Millisecond},
		{name: "permanent goes to the failed list", script: []error{permanent}, wantAttempts: 1, wantFailed: true},
		{name: "telling the citizen failed: delivered again", failOnce: true, wantAttempts: 2},
		{name: "telling the refusal failed: refused again, then told", script: []error{permanent, permanent}, failOnce: true,
			wantAttempts: 2, wantFailed: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := newStore(t)
			enqueue(t, store, "s")
			in := &scriptedIntake{script: map[string][]error{"s": tt.script}, times: map[string][]time.Time{}}
			w := bot.NewOutboxWorker(store, in, nil, "w")
			w.Idle, w.Block, w.Backoff, w.MaxBackoff = time.Second, 20*time.Millisecond, 10*time.Millisecond, 40*time.Millisecond
			var mu sync.Mutex
			var told []bot.Event
			w.TellReceived = true
			w.Events = handlerFunc(func(_ context.Context, ev bot.Event) (bot.Outcome, error) {
				mu.Lock()
				defer mu.Unlock()
				told = append(told, ev)
				if tt.failOnce && len(told) == 1 {
					return bot.Outcome{}, errors.New("redis hiccup")
				}
				return bot.Outcome{}, nil
			})
			ctx, cancel := context.WithCancel(context.Background())
			var wg sync.WaitGroup
			wg.Go(func() { _ = w.Run(ctx) })
			bound := time.Now().Add(15 * time.Second)
			for {
				p, err := store.PendingSubmissions(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				if len(p) == 0 || time.Now().After(bound) {
					break
				}
				time.Sleep(10 * time.Millisecond)
			}
			cancel()
			wg.Wait()

			times := in.attempts("s")
			if len(times) != tt.wantAttempts {
				t.Errorf("intake asked %d times, want %d", len(times), tt.wantAttempts)
			}
			if tt.minGap > 0 && len(times) > 1 && times[1].Sub(times[0]) < tt.minGap {
				t.Errorf("retried after %s, sooner than Retry-After %s", times[1].Sub(times[0]), tt.minGap)
			}
			failed, err := store.FailedSubmissions(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if got := len(failed) == 1; got != tt.wantFailed {
				t.Fatalf("failed list holds %d, want failed=%v", len(failed), tt.wantFailed)
			}
			if tt.wantFailed {
				f := failed[0]
				if f.Code != 422 || f.Body != permanent.Detail || f.Failure != "permanent" || f.Submission.ID != "s" || f.Attempts != tt.wantAttempts {
					t.Errorf("failure record = %+v", f)
				}
				// Told honestly that the city's system did not take it, not left with
				// "submitted"; a telling that failed is made again.
				mu.Lock()
				defer mu.Unlock()
				if len(told) != tt.wantAttempts {
					t.Fatalf("the citizen was told %d times, want %d", len(told), tt.wantAttempts)
				}
				if ev := told[len(told)-1]; ev.ID != "intake-refused:s" || ev.Kind != bot.EventStatus || ev.Status.Status != bot.StatusUndelivered || ev.Status.SubmissionID != "s" {
					t.Errorf("refusal notice = %+v, want the submission's undelivered status", ev)
				}
				return
			}
			mu.Lock()
			defer mu.Unlock()
			wantTold := 1
			if tt.failOnce {
				wantTold = 2
			}
			if len(told) != wantTold || told[0].Status == nil || told[0].Status.IntakeID != "city-s" {
				t.Errorf("the citizen was told %+v, want %d calls with the receipt", told, wantTold)
			}
			if ev := told[0]; ev.ID != "intake-received:s" || ev.Kind != bot.EventStatus || ev.Status.Status != bot.StatusReceived || ev.Status.SubmissionID != "s" {
				t.Errorf("received notice = %+v, want the submission's received status", ev)
			}
		})
	}
}

func TestOutboxWorkerBackoff(t *testing.T) {
	w := bot.NewOutboxWorker(newStore(t), newFakeIntake(), nil, "b")
	w.Backoff, w.MaxBackoff = time.Second, 5*time.Minute
	tests := []struct {
		n        int
		min, max time.Duration
	}{
		{1, 500 * time.Millisecond, time.Second},
		{2, time.Second, 2 * time.Second},
		{5, 8 * time.Second, 16 * time.Second},
		{30, 150 * time.Second, 5 * time.Minute},
	}
	for _, tt := range tests {
		for range 20 {
			if d := w.BackoffFor(tt.n); d < tt.min || d > tt.max {
				t.Errorf("backoff after %d failures = %s, want within [%s, %s]", tt.n, d, tt.min, tt.max)
			}
		}
	}
}

// handlerFunc is an event handler made of a function.
type handlerFunc func(context.Context, bot.Event) (bot.Outcome, error)

func (f handlerFunc) Handle(ctx context.Context, ev bot.Event) (bot.Outcome, error) {
	return f(ctx, ev)
}

// skewedIntake fails every attempt with err and moves a shared clock on by step after
// each one, so hours of retries pass in a few rounds.
type skewedIntake struct {
	mu       sync.Mutex
	err      error
	step     time.Duration
	offset   time.Duration
	attempts int
}

func (s *skewedIntake) Deliver(context.Context, bot.Submission) (bot.Receipt, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.attempts++
	s.offset += s.step
	return bot.Receipt{}, s.err
}

func (s *skewedIntake) now() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return time.Now().Add(s.offset)
}

// A failure retryable for a bounded time (Open311's 400) is retried until the first
// attempt is RetryFor old, then moved to the failed list; without a bound it would be
// retried for ever.
func TestOutboxWorkerRetryFor(t *testing.T) {
	store := newStore(t)
	enqueue(t, store, "s")
	in := &skewedIntake{
		err:  &bot.SendError{Failure: bot.Retryable, RetryFor: 24 * time.Hour, Code: 400, Detail: "400: CRM is down"},
		step: 10 * time.Hour,
	}
	w := bot.NewOutboxWorker(store, in, nil, "w")
	w.SetClock(in.now)
	w.Idle, w.Block, w.Backoff, w.MaxBackoff = 150*time.Millisecond, 20*time.Millisecond, 10*time.Millisecond, 40*time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { _ = w.Run(ctx) })
	var failed []bot.SubmissionFailure
	for bound := time.Now().Add(15 * time.Second); time.Now().Before(bound); time.Sleep(10 * time.Millisecond) {
		var err error
		if failed, err = store.FailedSubmissions(context.Background()); err != nil {
			t.Fatal(err)
		}
		if len(failed) > 0 {
			break
		}
	}
	cancel()
	wg.Wait()
	// Attempts at +10h (the first), +20h, +30h and +40h: 30 h after the first, past 24 h.
	if len(failed) != 1 || failed[0].Attempts != 4 || failed[0].Failure != "permanent" || failed[0].Code != 400 ||
		failed[0].Body != "400: CRM is down" {
		t.Fatalf("failed list = %+v, want the submission after 4 attempts, permanent, code 400", failed)
	}
	if in.attempts != 4 {
		t.Errorf("intake asked %d times, want 4", in.attempts)
	}
}

// expireOutboxLeases ends every outbox claim under prefix at once, as a lease period
// passing without renewals does.
func expireOutboxLeases(t *testing.T, c redis.UniversalClient, prefix string) {
	t.Helper()
	ctx := context.Background()
	keys, err := redistest.Keys(ctx, c, prefix+":*:lease:outbox:*")
	if err != nil {
		t.Errorf("find outbox leases: %v", err)
		return
	}
	if len(keys) > 0 {
		for _, k := range keys {
			if err := c.Del(ctx, k).Err(); err != nil {
				t.Errorf("end lease %s: %v", k, err)
			}
		}
	}
}

// lateOutbox ends the worker's claims, and lets a thief claim the items, just before
// the worker acknowledges one: a pause of the worker longer than Idle while the intake
// took the submission.
type lateOutbox struct {
	bot.Outbox
	before func()
}

func (o lateOutbox) Ack(ctx context.Context, it bot.OutboxItem) error {
	o.before()
	return o.Outbox.Ack(ctx, it)
}

type lateStore struct {
	*redisstore.Store
	before func()
}

func (s lateStore) Outbox(worker string, idle, block time.Duration) bot.Outbox {
	return lateOutbox{Outbox: s.Store.Outbox(worker, idle, block), before: s.before}
}

// A worker whose claim ran out while the intake took a submission is refused its Ack:
// it says so once, counts no failure, and leaves the item to the worker that holds it
// now, which finds it still in the outbox.
func TestOutboxWorkerLostClaimAtAck(t *testing.T) {
	client, prefix := redistest.Client(t), redistest.Prefix(t)
	base := redisstore.New(client, redisstore.Options{Prefix: prefix})
	enqueue(t, base, "late")
	var once sync.Once
	var stolen []bot.OutboxItem
	acked := make(chan struct{})
	store := lateStore{Store: base, before: func() {
		once.Do(func() {
			expireOutboxLeases(t, client, prefix)
			var err error
			if stolen, err = base.Claim(context.Background(), "thief", 10, 0, 2*time.Second); err != nil {
				t.Errorf("thief's claim: %v", err)
			}
			close(acked)
		})
	}}
	in := newFakeIntake()
	logs := &bottest.LogBuffer{}
	w := bot.NewOutboxWorker(store, in, logs.Logger(), "victim")
	w.Block = 20 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { _ = w.Run(ctx) })
	in.waitDelivered(t, []string{"late"})
	<-acked
	cancel()
	wg.Wait()
	if len(stolen) != 1 {
		t.Fatalf("the thief took %d items, want 1", len(stolen))
	}
	if n := in.snapshot()["late"]; n != 1 {
		t.Errorf("the intake got the submission %d times, want 1 (the thief has not delivered it yet)", n)
	}
	out := logs.String()
	if n := strings.Count(out, "claim was lost"); n != 1 {
		t.Errorf("%d log lines about the lost claim, want 1:\n%s", n, out)
	}
	if strings.Contains(out, "level=ERROR") || strings.Contains(out, "ack after delivery failed") {
		t.Errorf("a lost claim was logged as a failure:\n%s", out)
	}
	if strings.Contains(out, "submission delivered") {
		t.Errorf("a refused Ack was logged as delivered:\n%s", out)
	}
	// The thief still has it, and acknowledges it.
	if mine, err := base.Hold(context.Background(), "thief", stolen, time.Minute); err != nil || !mine[0] {
		t.Errorf("thief's hold = %v, %v; want it still the thief's", mine, err)
	}
	if err := base.Ack(context.Background(), stolen[0]); err != nil {
		t.Errorf("thief's Ack: %v", err)
	}
}

// gateIntake holds each delivery until the test lets it through.
type gateIntake struct {
	started chan string
	proceed chan struct{}
}

func (g *gateIntake) Deliver(ctx context.Context, s bot.Submission) (bot.Receipt, error) {
	g.started <- s.ID
	<-g.proceed
	return bot.Receipt{IntakeID: "in-" + s.ID}, nil
}

// A worker stopped cleanly mid-batch gives back the items it had not started, so that
// another worker claims them at once rather than one lease period later; the one it was
// delivering is finished and acknowledged.
func TestOutboxWorkerStopGivesBack(t *testing.T) {
	store := newStore(t)
	for _, id := range []string{"a", "b", "c"} {
		enqueue(t, store, id)
	}
	in := &gateIntake{started: make(chan string, 3), proceed: make(chan struct{})}
	w := bot.NewOutboxWorker(store, in, nil, "stopping")
	// One delivery at a time, so that two of the batch wait for a slot when it stops.
	w.Block, w.Concurrency = 20*time.Millisecond, 1
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	first := <-in.started
	cancel()
	close(in.proceed)
	if err := <-done; err != nil {
		t.Fatalf("Run = %v", err)
	}
	// The other worker's claims are leases of 15s: it takes only entries left alone
	// that long, or given back.
	left, err := store.Outbox("other", 15*time.Second, 0).Claim(context.Background(), 10)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, it := range left {
		got = append(got, it.Submission.ID)
	}
	if len(got) != 2 || slices.Contains(got, first) {
		t.Errorf("another worker claimed %v at once, want the two besides %s", got, first)
	}
}

// hangingIntake holds the delivery of one submission until released (a city server
// that does not answer until the client's timeout) and delivers the others at once.
type hangingIntake struct {
	*fakeIntake
	id      string
	hung    chan struct{} // closed when the hanging delivery began
	release chan struct{}
	once    sync.Once
}

func (h *hangingIntake) Deliver(ctx context.Context, s bot.Submission) (bot.Receipt, error) {
	if s.ID == h.id {
		h.once.Do(func() { close(h.hung) })
		select {
		case <-h.release:
		case <-ctx.Done():
			return bot.Receipt{}, &bot.SendError{Failure: bot.Retryable, Detail: "timeout"}
		}
	}
	return h.fakeIntake.Deliver(ctx, s)
}

// One intake call hanging holds up no other submission: those of its batch and of the
// batches after it are delivered while it hangs, and it is delivered once when it
// answers. A second worker shares the outbox and Idle is short, so a hanging item whose
// claim were not renewed would be delivered twice.
func TestOutboxWorkerHangingDelivery(t *testing.T) {
	store := newStore(t)
	in := &hangingIntake{fakeIntake: newFakeIntake(), id: "hangs", hung: make(chan struct{}), release: make(chan struct{})}
	enqueue(t, store, in.id)
	var others []string
	for i := range 12 {
		id := fmt.Sprintf("quick-%d", i)
		others = append(others, id)
		enqueue(t, store, id)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var released sync.Once
	t.Cleanup(func() { // also when the test failed midway
		released.Do(func() { close(in.release) })
		cancel()
		wg.Wait()
	})
	for i := range 2 {
		w := bot.NewOutboxWorker(store, in, nil, fmt.Sprintf("worker-%d", i))
		// Batches of 4 with 3 slots: the quick ones need several batches and slots.
		w.Batch, w.Concurrency = 4, 3
		w.Idle, w.Block, w.Backoff = 200*time.Millisecond, 20*time.Millisecond, 10*time.Millisecond
		wg.Go(func() { _ = w.Run(ctx) })
	}
	select {
	case <-in.hung:
	case <-time.After(20 * time.Second):
		t.Fatal("the hanging submission was never delivered")
	}
	// The hanging delivery has not answered: only the test's release lets it.
	in.waitDelivered(t, others)
	// Longer than Idle: a claim not renewed would be taken over now.
	time.Sleep(500 * time.Millisecond)
	if n := in.snapshot()[in.id]; n != 0 {
		t.Fatalf("the hanging submission reached the intake %d times before it answered", n)
	}
	released.Do(func() { close(in.release) })
	in.waitDelivered(t, []string{in.id})
	cancel()
	wg.Wait()
	for _, id := range append(others, in.id) {
		if n := in.snapshot()[id]; n != 1 {
			t.Errorf("%s: intake called %d times, want 1", id, n)
		}
	}
	left, err := store.Claim(context.Background(), "check", 100, 0, time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if len(left) != 0 {
		t.Errorf("%d items left in the outbox after delivery", len(left))
	}
}

// A worker stopped while its slots are full gives back the items still waiting for
// one, and finishes those it was delivering.
func TestOutboxWorkerStopWithSlotsFull(t *testing.T) {
	store := newStore(t)
	for _, id := range []string{"a", "b", "c", "d"} {
		enqueue(t, store, id)
	}
	in := &gateIntake{started: make(chan string, 4), proceed: make(chan struct{})}
	w := bot.NewOutboxWorker(store, in, nil, "stopping")
	w.Block, w.Concurrency = 20*time.Millisecond, 2
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	started := []string{<-in.started, <-in.started}
	cancel()
	close(in.proceed)
	if err := <-done; err != nil {
		t.Fatalf("Run = %v", err)
	}
	left, err := store.Outbox("other", 15*time.Second, 0).Claim(context.Background(), 10)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, it := range left {
		got = append(got, it.Submission.ID)
	}
	slices.Sort(got)
	if len(got) != 2 || slices.Contains(got, started[0]) || slices.Contains(got, started[1]) {
		t.Errorf("another worker claimed %v at once, want the two besides %v", got, started)
	}
	if pending, err := store.PendingSubmissions(context.Background()); err != nil || len(pending) != 2 {
		t.Errorf("pending after stop = %d, %v; want the two given back (the delivered ones acknowledged)", len(pending), err)
	}
}
