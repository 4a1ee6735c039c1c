package bot

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// DeliveryAttempts is what is remembered of a submission the intake has not taken yet.
type DeliveryAttempts struct {
	// Count is the number of failed attempts so far.
	Count int `json:"count"`
	// Next is when the submission may be tried again; zero means now.
	Next time.Time `json:"next"`
	// LastError classifies the last failure ("retryable (code 503)"); never personal data.
	LastError string    `json:"last_error,omitempty"`
	Code      int       `json:"code,omitempty"`
	At        time.Time `json:"at"`
	// First is when the first attempt failed: a failure retried only for a bounded time
	// (SendError.RetryFor) is measured from it.
	First time.Time `json:"first,omitzero"`
}

// SubmissionFailure is a submission the intake refused for good (a 4xx other than 408
// and 429), kept whole for operators, who may send it again once the cause is fixed.
type SubmissionFailure struct {
	Submission Submission `json:"submission"`
	// Failure is the classification ("permanent").
	Failure string `json:"failure"`
	// Code is the intake's HTTP status, when it answered.
	Code int `json:"code,omitempty"`
	// Body is the intake's answer, trimmed by the client.
	Body     string    `json:"body,omitempty"`
	Attempts int       `json:"attempts"`
	At       time.Time `json:"at"`
}

// OutboxWorker takes confirmed submissions out of the outbox and delivers them to the
// intake. Several workers, in one process or many, share one outbox: each claims its own
// items, and an item a dead worker claimed is claimed again after one lease period
// (Idle). An item is acknowledged only after the intake took it, so a crash between the
// two delivers it again; the intake keeps one by submission ID.
//
// A live worker keeps its claims: while it works through a batch it renews the claim on
// every item it has not finished every Idle/3, however long the deliveries take, and
// just before delivering an item it checks the item is still its own, skipping one
// another worker took over (after a pause longer than Idle, say). So Idle need not
// exceed Batch × DeliverTimeout; it only bounds how long a dead worker's items wait. A
// worker whose claim was lost while it delivered is refused its Ack, Retry or Fail
// (ErrClaimLost): the item is the new holder's, and this worker leaves it alone. A
// worker stopped cleanly finishes the deliveries under way and gives back the items it
// had not started, for another worker to claim at once.
//
// Up to Concurrency deliveries run at once, so one intake call hanging until
// DeliverTimeout holds up no other submission: the rest of its batch is delivered
// meanwhile, and the worker claims the next batch as soon as a delivery slot is free.
// A batch's claims are renewed until the last of its deliveries is over.
//
// A failed item waits its own backoff (exponential, with jitter, at least the intake's
// Retry-After) without holding up the others, and the wait is kept in the ledger, so a
// restarted worker keeps to it. Retryable failures are retried for ever: a submission is
// never dropped. A permanent failure moves the submission to the failed list, and so
// does a retryable one with a bound (SendError.RetryFor) once the first attempt is that
// old.
type OutboxWorker struct {
	store    Outboxes
	intake   Intake
	log      *slog.Logger
	consumer string
	now      func() time.Time
	// storeFailed is set by a delivery whose Ack, Retry or Fail the store failed, for
	// Run to pause its claims as after a failed claim.
	storeFailed atomic.Bool

	// Batch is how many items one claim takes (default 10).
	Batch int
	// Concurrency is how many deliveries run at once (default 8; INTAKE_CONCURRENCY).
	Concurrency int
	// Idle is the lease period of the worker's claims: how long an item stays with a
	// claimer that stopped renewing before any worker may claim it again (default 15s,
	// and the outbox bounds it by its own maximum lease period, 15s for
	// bot/redisstore). A dead worker's items wait this long; a live worker renews its
	// claims every Idle/3, so Idle must comfortably exceed a Redis round trip and a
	// scheduling hiccup, but not the time a batch takes.
	Idle time.Duration
	// Block is how long a claim waits for new items (default 2s); a cancelled worker
	// stops within about this long.
	Block time.Duration
	// Backoff is the wait after a submission's first failed attempt, doubled for each
	// failure after it up to MaxBackoff, then jittered (defaults 2s and 5m). The same
	// bounds space the claims after the store itself failed.
	Backoff, MaxBackoff time.Duration
	// DeliverTimeout bounds one delivery; it runs to the end (within this bound) even
	// when the worker is being stopped, so a submission is not cut midway (default 30s).
	DeliverTimeout time.Duration
	// Events, with TellReceived, is handed an EventStatus (received) after the intake
	// took a submission and before it leaves the outbox: it tells the citizen. TellReceived
	// is for the city's intake (a local file receives nothing worth telling). The event
	// id is the submission's, so a second telling (a crash before the acknowledgement)
	// is a duplicate the engine drops. When it fails, the submission is delivered again
	// later (the intake keeps one).
	Events       EventHandler
	TellReceived bool
}

// NewOutboxWorker builds a worker named consumer (unique among the workers sharing the
// outbox, e.g. the host name and process id).
func NewOutboxWorker(o Outboxes, in Intake, log *slog.Logger, consumer string) *OutboxWorker {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &OutboxWorker{
		store:          o,
		intake:         in,
		log:            log.With("component", "outbox", "consumer", consumer),
		consumer:       consumer,
		now:            time.Now,
		Batch:          10,
		Concurrency:    8,
		Idle:           15 * time.Second,
		Block:          2 * time.Second,
		Backoff:        2 * time.Second,
		MaxBackoff:     5 * time.Minute,
		DeliverTimeout: 30 * time.Second,
	}
}

// maxStorePause bounds the pause after the store failed: Redis coming back should
// not find the worker asleep for MaxBackoff.
const maxStorePause = 30 * time.Second

// Run claims and delivers until ctx is cancelled, then returns nil once the deliveries
// under way are over. Failures are logged and retried; they never end the loop.
func (w *OutboxWorker) Run(ctx context.Context) error {
	w.log.Info("outbox worker started")
	defer w.log.Info("outbox worker stopped")
	q := w.store.Outbox(w.consumer, w.Idle, w.Block)
	storeDown := Backoff{Base: w.Backoff, Max: min(w.MaxBackoff, maxStorePause), Steady: true}
	slots := make(chan struct{}, max(w.Concurrency, 1))
	var running sync.WaitGroup
	defer running.Wait()
	failures := 0
	for ctx.Err() == nil {
		ok := w.round(ctx, q, slots, &running)
		if w.storeFailed.Swap(false) {
			ok = false
		}
		if ok {
			failures = 0
			continue
		}
		failures++
		_ = Sleep(ctx, storeDown.Wait(failures))
	}
	return nil
}

// round waits for a free delivery slot, claims one batch and starts delivering what
// is due, each item in a slot of its own once one is free; it returns when every item
// was started, skipped or given back, and leaves the deliveries to running. It
// reports false when the store failed; a failed delivery is the item's own business.
func (w *OutboxWorker) round(ctx context.Context, q Outbox, slots chan struct{}, running *sync.WaitGroup) bool {
	if !acquire(ctx, slots) {
		return true
	}
	items, err := q.Claim(ctx, w.Batch)
	if err != nil || len(items) == 0 {
		<-slots
		if err != nil && ctx.Err() == nil {
			w.log.Error("claim from outbox", "err", err)
			return false
		}
		return true
	}
	b := w.hold(q, items)
	var delivering sync.WaitGroup
	// The claims are renewed until the batch's last delivery is over; deferred, so that
	// the wait begins after the last delivery was started.
	defer running.Go(func() {
		delivering.Wait()
		b.stop()
	})
	for i, it := range items {
		stopping := i > 0 && !acquire(ctx, slots)
		if !stopping && ctx.Err() != nil {
			<-slots
			stopping = true
		}
		if stopping {
			// What was not started goes back at once, not after Idle.
			w.giveBack(q, b, items[i:])
			return true
		}
		mine, err := b.take(ctx, it)
		if err != nil || !mine {
			<-slots
		}
		if err != nil {
			if ctx.Err() != nil {
				w.giveBack(q, b, items[i:])
				return true
			}
			// Not sure it is still ours: leave it, and the rest, to come back after Idle.
			w.log.Error("renew claim", "err", err)
			for _, rest := range items[i:] {
				b.release(rest)
			}
			return false
		}
		if !mine {
			w.log.Info("submission taken over by another worker; skipped",
				"submission", it.Submission.ID, "reference", it.Submission.Reference)
			continue
		}
		delivering.Go(func() {
			defer func() { <-slots }()
			if !w.deliver(ctx, q, it, b) {
				w.storeFailed.Store(true)
			}
		})
	}
	return true
}

// acquire takes a delivery slot, waiting for one to be free. It reports false, with no
// slot taken, when ctx is cancelled first.
func acquire(ctx context.Context, slots chan struct{}) bool {
	select {
	case slots <- struct{}{}:
		return true
	case <-ctx.Done():
		return false
	}
}

// giveBack hands items this worker will not deliver back to the outbox (a Retry at
// their own schedule, which frees their claims), so that another worker takes them at
// once. What cannot be given back in a moment comes back after Idle all the same.
func (w *OutboxWorker) giveBack(q Outbox, b *batch, items []OutboxItem) {
	ctx, cancel := context.WithTimeout(context.Background(), giveBackTimeout)
	defer cancel()
	n := 0
	for _, it := range items {
		b.release(it)
		if err := q.Retry(ctx, it, it.Attempts); err != nil {
			if !errors.Is(err, ErrClaimLost) {
				w.log.Warn("giving back unstarted submissions on stop; they come back after Idle",
					"err", err, "left", len(items)-n)
				return
			}
			continue
		}
		n++
	}
	if n > 0 {
		w.log.Info("gave back unstarted submissions on stop", "count", n)
	}
}

// giveBackTimeout bounds giving back a stopping worker's unstarted items.
const giveBackTimeout = 2 * time.Second

// batch is the claimed items a round works through. Until an item is released, a
// goroutine renews the claim on it every Idle/3, so that a slow intake does not let
// another worker take it over while it waits its turn or is being delivered.
type batch struct {
	w    *OutboxWorker
	q    Outbox
	done chan struct{}
	quit context.CancelFunc

	// mu is held across each renewal, so an item released is renewed no more: its Retry
	// frees its claim, which no renewal may take back.
	mu   sync.Mutex
	held map[string]OutboxItem // by Entry
}

// hold starts renewing the claims on items until stop, the first time Idle/3 from now:
// Claim has just taken or renewed them (an item it kept back is at most Idle/3 old).
func (w *OutboxWorker) hold(q Outbox, items []OutboxItem) *batch {
	ctx, cancel := context.WithCancel(context.Background())
	b := &batch{w: w, q: q, done: make(chan struct{}), quit: cancel, held: make(map[string]OutboxItem, len(items))}
	for _, it := range items {
		b.held[it.Entry] = it
	}
	every := max(w.Idle/3, time.Millisecond)
	go func() {
		defer close(b.done)
		t := time.NewTimer(every)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			b.renew(ctx)
			t.Reset(every)
		}
	}()
	return b
}

// renew re-asserts the claims on the items not released yet and forgets those another
// worker took over. A failure is logged: take checks each item again before delivery.
func (b *batch) renew(ctx context.Context) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.held) == 0 {
		return
	}
	items := make([]OutboxItem, 0, len(b.held))
	for _, it := range b.held {
		items = append(items, it)
	}
	mine, err := b.q.Renew(ctx, items)
	if err != nil {
		if ctx.Err() == nil {
			b.w.log.Warn("renew claims", "err", err)
		}
		return
	}
	for i, it := range items {
		if !mine[i] {
			delete(b.held, it.Entry)
		}
	}
}

// take reports whether it is still this worker's, asking the store afresh: renewals
// may have failed, and an item delivered by two workers is what the claims prevent.
func (b *batch) take(ctx context.Context, it OutboxItem) (bool, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.held[it.Entry]; !ok {
		return false, nil
	}
	mine, err := b.q.Renew(ctx, []OutboxItem{it})
	if err != nil {
		return false, err
	}
	if !mine[0] {
		delete(b.held, it.Entry)
		return false, nil
	}
	return true, nil
}

// release stops renewing the claim on it: the store's rules take over (Retry's
// schedule, or the claim running out after Idle).
func (b *batch) release(it OutboxItem) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.held, it.Entry)
}

// stop ends the renewals and waits for the goroutine. Items not released come back
// after Idle.
func (b *batch) stop() {
	b.quit()
	<-b.done
}

// deliver hands one item to the intake, unless its time has not come. It reports false
// when the store failed. Logs carry the submission's id and reference only: the rest,
// and the intake's answer, may be personal data.
func (w *OutboxWorker) deliver(ctx context.Context, q Outbox, it OutboxItem, b *batch) bool {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), w.DeliverTimeout)
	defer cancel()
	// The claim is renewed during the delivery, and no more once the store is told how
	// it went.
	defer b.release(it)
	sub, a := it.Submission, it.Attempts
	log := w.log.With("submission", sub.ID, "reference", sub.Reference)
	if !a.Next.IsZero() && w.now().Before(a.Next) {
		b.release(it)
		// Reclaimed before its time (its wait is longer than Idle): put it back to sleep.
		if err := q.Retry(ctx, it, a); err != nil {
			return w.refused(log, "postpone", err)
		}
		return true
	}
	if err := q.Index(ctx, sub); err != nil {
		log.Warn("index submission; will retry", "err", err)
		return false
	}
	rec, err := w.intake.Deliver(ctx, sub)
	if err == nil && w.TellReceived && w.Events != nil {
		if herr := w.tellReceived(ctx, sub, rec); herr != nil {
			log.Warn("telling the citizen failed; the submission will be delivered again", "err", herr)
			err = herr
		}
	}
	b.release(it)
	if err != nil {
		return w.failed(ctx, q, log, it, a, err)
	}
	if err := q.Ack(ctx, it); err != nil {
		// Delivered but still in the outbox: it is delivered again (by the worker that
		// took it over, or after Idle), and the intake keeps one.
		return w.refused(log, "ack after delivery", err)
	}
	log.Info("submission delivered", "intake_id", rec.IntakeID, "status", rec.Status,
		"attempts", a.Count+1)
	return true
}

// giveUp moves a submission the intake refused for good to the failed list.
func (w *OutboxWorker) giveUp(ctx context.Context, q Outbox, log *slog.Logger, it OutboxItem, a DeliveryAttempts, se *SendError, failure SendFailure, now time.Time) bool {
	f := SubmissionFailure{
		Submission: it.Submission, Failure: failure.String(), Code: se.Code,
		Body: se.Detail, Attempts: a.Count, At: now,
	}
	if ferr := q.Fail(ctx, it, f); ferr != nil {
		if errors.Is(ferr, ErrClaimLost) {
			return w.refused(log, "moving a refused submission to the failed list", ferr)
		}
		log.Error("moving a refused submission to the failed list", "err", ferr)
		return false
	}
	log.Warn("intake refused the submission; moved to the failed list",
		"failure", failure, "code", se.Code, "attempts", a.Count,
		"since_first", now.Sub(a.First).Round(time.Second))
	return true
}

// tellUndelivered tells the citizen the city's system refused the submission for good
// (staff will look at the failed list), before it moves there. The event id is the
// submission's, so telling twice (a crash before the move) is a duplicate.
func (w *OutboxWorker) tellUndelivered(ctx context.Context, s Submission) error {
	if w.Events == nil {
		return nil
	}
	_, err := w.Events.Handle(ctx, Event{
		ID: "intake-refused:" + s.ID, Conversation: s.Conversation, Kind: EventStatus,
		Status: &StatusChange{SubmissionID: s.ID, Reference: s.Reference, Status: StatusUndelivered, At: w.now()},
	})
	return err
}

// tellReceived tells the citizen the city received the submission.
func (w *OutboxWorker) tellReceived(ctx context.Context, s Submission, r Receipt) error {
	_, err := w.Events.Handle(ctx, Event{
		ID: "intake-received:" + s.ID, Conversation: s.Conversation, Kind: EventStatus,
		Status: &StatusChange{
			SubmissionID: s.ID, Reference: s.Reference, Status: StatusReceived,
			IntakeID: r.IntakeID, At: w.now(),
		},
	})
	return err
}

// failed records a failed attempt: the failed list for a permanent failure, a later
// attempt for any other.
func (w *OutboxWorker) failed(ctx context.Context, q Outbox, log *slog.Logger, it OutboxItem, a DeliveryAttempts, err error) bool {
	now := w.now()
	a.Count++
	a.At = now
	if a.First.IsZero() {
		a.First = now
	}
	a.Code = 0
	a.LastError = "error"
	var se *SendError
	if errors.As(err, &se) {
		a.Code = se.Code
		a.LastError = se.Failure.String()
		if se.Detail != "" && se.Code == 0 {
			a.LastError += ": " + se.Detail // "timeout", "network error": the client's words
		}
		failure := se.Failure
		if se.RetryFor > 0 && now.Sub(a.First) >= se.RetryFor {
			failure = Permanent // retried for as long as the intake's answer allows
		}
		if failure == Permanent || failure == Gone {
			terr := w.tellUndelivered(ctx, it.Submission)
			if terr == nil {
				return w.giveUp(ctx, q, log, it, a, se, failure, now)
			}
			// The citizen must not be left reading "submitted": the submission stays in
			// the outbox, is tried again later, and refused again, until they are told.
			log.Warn("telling the citizen of the refusal failed; the submission will be tried again", "err", terr)
			se = nil
		}
	}
	wait := w.backoff(a.Count)
	if se != nil && se.RetryAfter > wait {
		wait = se.RetryAfter
	}
	a.Next = now.Add(wait)
	args := []any{"attempts", a.Count, "retry_in", wait.Round(time.Millisecond)}
	if se != nil {
		args = append(args, "failure", se.Failure, "code", se.Code)
	} else {
		args = append(args, "err", err)
	}
	log.Warn("delivery failed; will retry", args...)
	if perr := q.Retry(ctx, it, a); perr != nil {
		// It stays claimed and comes back after Idle all the same.
		return w.refused(log, "postpone", perr)
	}
	return true
}

// refused logs a store step (Ack, Retry, Fail) that failed, one line, and reports
// whether the round may go on as if it succeeded: a step refused because the claim
// was lost (ErrClaimLost) is no failure of this worker's, only news that the item is
// another worker's now, which delivers it; this worker does nothing more with it.
func (w *OutboxWorker) refused(log *slog.Logger, step string, err error) bool {
	if errors.Is(err, ErrClaimLost) {
		log.Warn(step+": the claim was lost; the item is another worker's now", "err", err)
		return true
	}
	log.Warn(step+" failed", "err", err)
	return false
}

// backoff is the wait after the n-th failed attempt: Backoff·2^(n-1), at most MaxBackoff,
// jittered, so that submissions that failed together do not come back together.
func (w *OutboxWorker) backoff(n int) time.Duration {
	return Backoff{Base: w.Backoff, Max: w.MaxBackoff}.Wait(n)
}
