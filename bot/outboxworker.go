package bot

import (
	"context"
	"log/slog"
	"time"
)

// OutboxWorker takes confirmed submissions out of the outbox and delivers them to the
// intake. Several workers, in one process or many, share one outbox: each claims its own
// items, and an item a dead worker claimed is claimed again after Idle. An item is
// acknowledged only after the intake took it, so a crash between the two delivers it
// again; the intake keeps one by submission ID.
type OutboxWorker struct {
	outbox   Outbox
	intake   Intake
	log      *slog.Logger
	consumer string

	// Batch is how many items one claim takes (default 10).
	Batch int
	// Idle is how long an unacknowledged item stays with its claimer before any worker
	// may claim it again: a failed delivery is retried after it (default 1m).
	Idle time.Duration
	// Block is how long a claim waits for new items (default 2s); a cancelled worker
	// stops within about this long.
	Block time.Duration
	// Backoff is the first pause after a round with a failure, doubled for each failed
	// round in a row up to MaxBackoff (defaults 1s and 30s).
	Backoff, MaxBackoff time.Duration
	// DeliverTimeout bounds one delivery; it runs to the end (within this bound) even
	// when the worker is being stopped, so a submission is not cut midway (default 10s).
	DeliverTimeout time.Duration
}

// NewOutboxWorker builds a worker named consumer (unique among the workers sharing the
// outbox, e.g. the host name and process id).
func NewOutboxWorker(o Outbox, in Intake, log *slog.Logger, consumer string) *OutboxWorker {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &OutboxWorker{
		outbox:         o,
		intake:         in,
		log:            log.With("component", "outbox", "consumer", consumer),
		consumer:       consumer,
		Batch:          10,
		Idle:           time.Minute,
		Block:          2 * time.Second,
		Backoff:        time.Second,
		MaxBackoff:     30 * time.Second,
		DeliverTimeout: 10 * time.Second,
	}
}

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
		pause = min(max(pause*2, w.Backoff), w.MaxBackoff)
		t := time.NewTimer(pause)
		select {
		case <-ctx.Done():
			t.Stop()
		case <-t.C:
		}
	}
	return nil
}

// round claims one batch and delivers it. It reports false when anything failed.
func (w *OutboxWorker) round(ctx context.Context) bool {
	items, err := w.outbox.Claim(ctx, w.consumer, w.Batch, w.Idle, w.Block)
	if err != nil {
		if ctx.Err() != nil {
			return true
		}
		w.log.Error("claim from outbox", "err", err)
		return false
	}
	ok := true
	for _, it := range items {
		if ctx.Err() != nil {
			// Left claimed: another worker, or this one after a restart, takes it after Idle.
			break
		}
		if !w.deliver(ctx, it) {
			ok = false
		}
	}
	return ok
}

// deliver hands one item to the intake and acknowledges it. Logs carry the submission's
// id and reference only: the rest is personal data.
func (w *OutboxWorker) deliver(ctx context.Context, it OutboxItem) bool {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), w.DeliverTimeout)
	defer cancel()
	sub := it.Submission
	rec, err := w.intake.Deliver(ctx, sub)
	if err != nil {
		w.log.Warn("delivery failed; will retry", "submission", sub.ID, "reference", sub.Reference,
			"deliveries", it.Deliveries, "retry_after", w.Idle, "err", err)
		return false
	}
	if err := w.outbox.Ack(ctx, it); err != nil {
		// Delivered but still in the outbox: it is delivered again after Idle, and the
		// intake keeps one.
		w.log.Warn("ack after delivery failed", "submission", sub.ID, "reference", sub.Reference, "err", err)
		return false
	}
	w.log.Info("submission delivered", "submission", sub.ID, "reference", sub.Reference,
		"intake_id", rec.IntakeID, "status", rec.Status, "deliveries", it.Deliveries)
	return true
}
