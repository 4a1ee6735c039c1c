package bot

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"time"
)

// OutboxLedger is what the outbox worker remembers of submissions beside the outbox
// itself: when each may be tried again, the failed list, and the index the intake's
// callbacks use to find the citizen. bot/redisstore.Store implements it.
type OutboxLedger interface {
	// Index records the submission's conversation and reference under its id, and its id
	// under its reference. Recording it again is harmless.
	Index(ctx context.Context, s Submission) error
	// Attempts returns what is known of earlier attempts of each item, in order; the zero
	// value for an item never tried.
	Attempts(ctx context.Context, items []OutboxItem) ([]DeliveryAttempts, error)
	// Postpone records a.Count and the rest, and leaves the item with consumer (the one
	// that claimed it) such that a Claim with the same idle hands it out again at a.Next,
	// or after idle when a.Next is further away.
	Postpone(ctx context.Context, consumer string, item OutboxItem, a DeliveryAttempts, idle time.Duration) error
	// Fail moves the item to the failed list, whole, and removes it from the outbox, in
	// one step: nothing is dropped and nothing is delivered twice.
	Fail(ctx context.Context, item OutboxItem, f SubmissionFailure) error
}

// OutboxStore is the outbox with its ledger.
type OutboxStore interface {
	Outbox
	OutboxLedger
}

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
// items, and an item a dead worker claimed is claimed again after Idle. An item is
// acknowledged only after the intake took it, so a crash between the two delivers it
// again; the intake keeps one by submission ID.
//
// A failed item waits its own backoff (exponential, with jitter, at least the intake's
// Retry-After) without holding up the others, and the wait is kept in the ledger, so a
// restarted worker keeps to it. Retryable failures are retried for ever: a submission is
// never dropped. A permanent failure moves the submission to the failed list.
type OutboxWorker struct {
	store    OutboxStore
	intake   Intake
	log      *slog.Logger
	consumer string
	now      func() time.Time

	// Batch is how many items one claim takes (default 10).
	Batch int
	// Idle is how long an unacknowledged item stays with its claimer before any worker
	// may claim it again (default 1m). A dead worker's items wait this long.
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
	// OnDelivered, when set, is called after the intake took a submission and before it
	// leaves the outbox: it tells the citizen. It may run more than once for one
	// submission (a crash before the acknowledgement), so it must be idempotent. When it
	// fails, the submission is delivered again later (the intake keeps one).
	OnDelivered func(ctx context.Context, s Submission, r Receipt) error
}

// NewOutboxWorker builds a worker named consumer (unique among the workers sharing the
// outbox, e.g. the host name and process id).
func NewOutboxWorker(o OutboxStore, in Intake, log *slog.Logger, consumer string) *OutboxWorker {
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
		Idle:           time.Minute,
		Block:          2 * time.Second,
		Backoff:        2 * time.Second,
		MaxBackoff:     5 * time.Minute,
		DeliverTimeout: 30 * time.Second,
	}
}

// maxStorePause bounds the pause after the store failed: Redis coming back should
// not find the worker asleep for MaxBackoff.
const maxStorePause = 30 * time.Second

// Run claims and delivers until ctx is cancelled, then returns nil. Failures are logged
// and retried; they never end the loop.
func (w *OutboxWorker) Run(ctx context.Context) error {
	w.log.Info("outbox worker started")
	defer w.log.Info("outbox worker stopped")
	var pause time.Duration
	for ctx.Err() == nil {
		if ok := w.round(ctx); ok {
			pause = 0
			continue
		}
		pause = min(max(pause*2, w.Backoff), w.MaxBackoff, maxStorePause)
		t := time.NewTimer(pause)
		select {
		case <-ctx.Done():
			t.Stop()
		case <-t.C:
		}
	}
	return nil
}

// round claims one batch and delivers what is due. It reports false when the store
// failed; a failed delivery is the item's own business.
func (w *OutboxWorker) round(ctx context.Context) bool {
	items, err := w.store.Claim(ctx, w.consumer, w.Batch, w.Idle, w.Block)
	if err != nil {
		if ctx.Err() != nil {
			return true
		}
		w.log.Error("claim from outbox", "err", err)
		return false
	}
	if len(items) == 0 {
		return true
	}
	attempts, err := w.store.Attempts(ctx, items)
	if err != nil {
		// The items stay claimed: they come back after Idle.
		w.log.Error("read delivery attempts", "err", err)
		return false
	}
	ok := true
	for i, it := range items {
		if ctx.Err() != nil {
			// Left claimed: another worker, or this one after a restart, takes it after Idle.
			break
		}
		if !w.deliver(ctx, it, attempts[i]) {
			ok = false
		}
	}
	return ok
}

// deliver hands one item to the intake, unless its time has not come. It reports false
// when the store failed. Logs carry the submission's id and reference only: the rest,
// and the intake's answer, may be personal data.
func (w *OutboxWorker) deliver(ctx context.Context, it OutboxItem, a DeliveryAttempts) bool {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), w.DeliverTimeout)
	defer cancel()
	sub := it.Submission
	log := w.log.With("submission", sub.ID, "reference", sub.Reference)
	if !a.Next.IsZero() && w.now().Before(a.Next) {
		// Reclaimed before its time (its wait is longer than Idle): put it back to sleep.
		if err := w.store.Postpone(ctx, w.consumer, it, a, w.Idle); err != nil {
			log.Warn("postpone", "err", err)
			return false
		}
		return true
	}
	if err := w.store.Index(ctx, sub); err != nil {
		log.Warn("index submission; will retry", "err", err)
		return false
	}
	rec, err := w.intake.Deliver(ctx, sub)
	if err == nil && w.OnDelivered != nil {
		if herr := w.OnDelivered(ctx, sub, rec); herr != nil {
			log.Warn("telling the citizen failed; the submission will be delivered again", "err", herr)
			err = herr
		}
	}
	if err != nil {
		return w.failed(ctx, log, it, a, err)
	}
	if err := w.store.Ack(ctx, it); err != nil {
		// Delivered but still in the outbox: it is delivered again after Idle, and the
		// intake keeps one.
		log.Warn("ack after delivery failed", "err", err)
		return false
	}
	log.Info("submission delivered", "intake_id", rec.IntakeID, "status", rec.Status,
		"attempts", a.Count+1)
	return true
}

// failed records a failed attempt: the failed list for a permanent failure, a later
// attempt for any other.
func (w *OutboxWorker) failed(ctx context.Context, log *slog.Logger, it OutboxItem, a DeliveryAttempts, err error) bool {
	now := w.now()
	a.Count++
	a.At = now
	a.Code = 0
	a.LastError = "error"
	var se *SendError
	if errors.As(err, &se) {
		a.Code = se.Code
		a.LastError = se.Failure.String()
		if se.Detail != "" && se.Code == 0 {
			a.LastError += ": " + se.Detail // "timeout", "network error": the client's words
		}
		if se.Failure == Permanent || se.Failure == Gone {
			f := SubmissionFailure{
				Submission: it.Submission, Failure: se.Failure.String(), Code: se.Code,
				Body: se.Detail, Attempts: a.Count, At: now,
			}
			if ferr := w.store.Fail(ctx, it, f); ferr != nil {
				log.Error("moving a refused submission to the failed list", "err", ferr)
				return false
			}
			log.Warn("intake refused the submission; moved to the failed list",
				"failure", se.Failure, "code", se.Code, "attempts", a.Count)
			return true
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
	if perr := w.store.Postpone(ctx, w.consumer, it, a, w.Idle); perr != nil {
		// It stays claimed and comes back after Idle all the same.
		log.Warn("postpone", "err", perr)
		return false
	}
	return true
}

// backoff is the wait after the n-th failed attempt: Backoff·2^(n-1), at most MaxBackoff,
// of which a random half ("equal jitter"), so that submissions that failed together do
// not come back together.
func (w *OutboxWorker) backoff(n int) time.Duration {
	d := w.Backoff
	for i := 1; i < n && d < w.MaxBackoff; i++ {
		d *= 2
	}
	d = min(d, w.MaxBackoff)
	if d <= 1 {
		return d
	}
	return d/2 + rand.N(d/2+1)
}
