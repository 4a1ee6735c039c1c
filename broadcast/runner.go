package broadcast

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/sangkien/sangkien/bot"
	"github.com/sangkien/sangkien/bot/redisstore"
)

// Store is what the runner needs of Redis: redisstore.Store.
type Store interface {
	Broadcasts(ctx context.Context, n int) ([]bot.Broadcast, error)
	Broadcast(ctx context.Context, id string) (bot.Broadcast, error)
	SaveBroadcast(ctx context.Context, b bot.Broadcast) error
	SetBroadcastState(ctx context.Context, id string, state bot.BroadcastState, from ...bot.BroadcastState) (bool, error)
	ClaimBroadcastShard(ctx context.Context, id string, shard int, holder string, ttl time.Duration) (redisstore.BroadcastShard, bool, error)
	RenewBroadcastShard(ctx context.Context, sh redisstore.BroadcastShard, ttl time.Duration) (bool, error)
	ReleaseBroadcastShard(ctx context.Context, sh redisstore.BroadcastShard) error
	Audience(ctx context.Context, shard int, q bot.AudienceQuery, cursor string, n int) ([]bot.AudienceMember, string, error)
	QueueBroadcast(ctx context.Context, sh *redisstore.BroadcastShard, msgs []bot.Outbound, next string) (int, error)
	BroadcastProgress(ctx context.Context, id string) (bot.BroadcastProgress, error)
	ClaimLead(ctx context.Context, name, holder string, ttl time.Duration) (redisstore.Lease, bool, error)
	RenewLead(ctx context.Context, l redisstore.Lease, ttl time.Duration) (bool, error)
	ReleaseLead(ctx context.Context, l redisstore.Lease) error
}

// Runner fans due broadcasts out into the channels' bulk lanes. Every gateway process
// runs one: they share the work shard by shard, each shard under a lease, and what a
// process killed mid-way left is resumed by the next from the shard's cursor, each
// recipient queued once (redisstore.QueueBroadcast).
type Runner struct {
	Store  Store
	Holder string // this process's name, in the leases
	// Reminders, when set, become broadcasts as they fall due, in the one process of
	// the fleet that holds the reminders' lead.
	Reminders *Reminders
	Logger    *slog.Logger
	// Tick is how often due broadcasts are looked for (1s); Page, how many recipients
	// one step queues (500); Hold, the lease period of a shard and of the reminders'
	// lead (15s).
	Tick time.Duration
	Page int
	Hold time.Duration
	Now  func() time.Time

	told map[string]bool // the late reminders already logged
	// lead is this process's hold on the reminders' duty, renewed at leadAt; the
	// zero Lease when another process has it.
	lead   redisstore.Lease
	leadAt time.Time
}

// remindersLead names the duty of turning reminders into broadcasts: one process of
// the fleet does it at a time.
const remindersLead = "reminders"

// recent bounds the broadcasts looked at on each tick: the newest ones.
const recent = 50

// Run works until ctx ends.
func (r *Runner) Run(ctx context.Context) error {
	r.defaults()
	t := time.NewTicker(r.Tick)
	defer t.Stop()
	for {
		if err := r.step(ctx); err != nil && ctx.Err() == nil {
			r.Logger.Warn("broadcasts: looking for work failed; trying again", "err", err)
		}
		select {
		case <-ctx.Done():
			r.stepDown(context.WithoutCancel(ctx))
			return nil
		case <-t.C:
		}
	}
}

func (r *Runner) defaults() {
	if r.Tick <= 0 {
		r.Tick = time.Second
	}
	if r.Page <= 0 {
		r.Page = 500
	}
	if r.Hold <= 0 {
		r.Hold = 15 * time.Second
	}
	if r.Now == nil {
		r.Now = time.Now
	}
	if r.Logger == nil {
		r.Logger = slog.New(slog.DiscardHandler)
	}
	r.Logger = r.Logger.With("component", "broadcast")
}

// step schedules the reminders that fell due, starts the broadcasts that are due and
// fans out the shards nobody holds.
func (r *Runner) step(ctx context.Context) error {
	if err := r.remind(ctx); err != nil {
		return err
	}
	bs, err := r.Store.Broadcasts(ctx, recent)
	if err != nil {
		return err
	}
	for _, b := range bs {
		if b.State == bot.BroadcastScheduled && !b.At.After(r.Now()) {
			ok, err := r.Store.SetBroadcastState(ctx, b.ID, bot.BroadcastSending, bot.BroadcastScheduled)
			if err != nil {
				return err
			}
			if ok {
				r.Logger.Info("broadcast started", "broadcast", b.ID, "audience", b.Audience.Index())
			}
			b.State = bot.BroadcastSending
		}
		if b.State != bot.BroadcastSending {
			continue
		}
		if err := r.fanOut(ctx, b); err != nil {
			return err
		}
	}
	return nil
}

// remind saves the reminders that fell due as broadcasts; one saved already (by this
// process or another, before a restart) is refused by its id, so each goes once.
func (r *Runner) remind(ctx context.Context) error {
	if r.Reminders == nil {
		return nil
	}
	if leading, err := r.leading(ctx); err != nil || !leading {
		return err
	}
	due, late := r.Reminders.Due(r.Now())
	for _, b := range due {
		err := r.Store.SaveBroadcast(ctx, b)
		switch {
		case errors.Is(err, redisstore.ErrBroadcastExists):
		case err != nil:
			return err
		default:
			r.Logger.Info("reminder scheduled", "broadcast", b.ID, "audience", b.Audience.Index())
		}
	}
	for _, id := range late {
		if r.told == nil {
			r.told = map[string]bool{}
		}
		if !r.told[id] {
			r.told[id] = true
			r.Logger.Warn("a reminder fell due while no gateway ran and went stale (its program closed, or its next reminder came): not sent", "reminder", id)
		}
	}
	return nil
}

// leading reports whether this process schedules the reminders: it claims the duty
// when nobody has it, and renews it past a third of its period.
func (r *Runner) leading(ctx context.Context) (bool, error) {
	if r.lead.Key != "" {
		if time.Since(r.leadAt) <= r.Hold/3 { // Redis's clock, not r.Now's
			return true, nil
		}
		ok, err := r.Store.RenewLead(ctx, r.lead, r.Hold)
		if err != nil {
			return false, err
		}
		if ok {
			r.leadAt = time.Now()
			return true, nil
		}
		r.lead = redisstore.Lease{}
		r.Logger.Warn("the reminders' lead ran out before it was renewed; claiming it again")
	}
	l, ok, err := r.Store.ClaimLead(ctx, remindersLead, r.Holder, r.Hold)
	if err != nil || !ok {
		return false, err
	}
	r.lead, r.leadAt = l, time.Now()
	r.Logger.Info("this process schedules the programs' reminders", "holder", r.Holder)
	return true, nil
}

// stepDown gives the reminders' lead back, so that another process takes it on at once.
func (r *Runner) stepDown(ctx context.Context) {
	if r.lead.Key == "" {
		return
	}
	if err := r.Store.ReleaseLead(ctx, r.lead); err != nil {
		r.Logger.Warn("giving the reminders' lead back failed; it runs out by itself", "err", err)
	}
	r.lead = redisstore.Lease{}
}

// fanOut queues what it can claim of b, and marks b queued once every shard is done.
func (r *Runner) fanOut(ctx context.Context, b bot.Broadcast) error {
	for shard := range redisstore.Shards {
		if ctx.Err() != nil {
			return nil
		}
		sh, ok, err := r.Store.ClaimBroadcastShard(ctx, b.ID, shard, r.Holder, r.Hold)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		err = r.shard(ctx, b, &sh)
		if rerr := r.Store.ReleaseBroadcastShard(context.WithoutCancel(ctx), sh); rerr != nil && err == nil {
			err = rerr
		}
		if errors.Is(err, redisstore.ErrLeaseLost) {
			r.Logger.Warn("broadcast shard lost to another process; it carries on", "broadcast", b.ID, "shard", shard)
			continue
		}
		if err != nil {
			return err
		}
	}
	p, err := r.Store.BroadcastProgress(ctx, b.ID)
	if err != nil {
		return err
	}
	if p.ShardsDone == p.Shards {
		if ok, err := r.Store.SetBroadcastState(ctx, b.ID, bot.BroadcastQueued, bot.BroadcastSending); err != nil {
			return err
		} else if ok {
			r.Logger.Info("broadcast queued: every recipient is in a bulk lane", "broadcast", b.ID, "recipients", p.Queued)
		}
	}
	return nil
}

// shard walks one shard's recipients page by page, renewing its lease as it goes.
func (r *Runner) shard(ctx context.Context, b bot.Broadcast, sh *redisstore.BroadcastShard) error {
	q := b.Recipients()
	renewed := r.Now()
	for !sh.Done {
		if ctx.Err() != nil {
			return nil
		}
		if r.Now().Sub(renewed) > r.Hold/3 {
			ok, err := r.Store.RenewBroadcastShard(ctx, *sh, r.Hold)
			if err != nil {
				return err
			}
			if !ok {
				return redisstore.ErrLeaseLost
			}
			renewed = r.Now()
		}
		if now, err := r.Store.Broadcast(ctx, b.ID); err != nil {
			return err
		} else if now.State != bot.BroadcastSending {
			return nil // cancelled meanwhile
		}
		members, next, err := r.Store.Audience(ctx, sh.Shard, q, sh.Cursor, r.Page)
		if err != nil {
			return err
		}
		msgs := make([]bot.Outbound, len(members))
		for i, m := range members {
			msgs[i] = b.Message(m)
		}
		if _, err := r.Store.QueueBroadcast(ctx, sh, msgs, next); err != nil {
			return err
		}
	}
	return nil
}
