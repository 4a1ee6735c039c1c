package redisstore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/sangkien/sangkien/bot"
)

// SenderOptions tune a process's view of a delivery queue. Zero values take defaults.
type SenderOptions struct {
	// Hold is the lease period of the shards the process sends for (15s, at most
	// MaxLeasePeriod): the conversations of a process killed with kill -9 get replies
	// again within it. A live process renews its leases every Hold/3.
	Hold time.Duration
	// Pickup is how often the process counts the live senders and looks for free
	// shards (500ms): a process that stopped cleanly gave its shards back, and another
	// takes them within about this long.
	Pickup time.Duration
	// Poll is how long a Claim that finds nothing waits before it returns (50ms),
	// unless this process queues a message meanwhile: a message another process
	// queued waits up to about this long. Each poll is one round trip (a pipeline).
	Poll time.Duration
	// Orphans is how long a reply must have been pending for the process in Redis,
	// without the process knowing of it, before it is read again (5s); the process
	// looks for such replies about as often. See orphans.
	Orphans time.Duration
	// Logger receives what goes wrong with the leases.
	Logger *slog.Logger
}

// Sender opens the view of ch's delivery queue of the process named name (unique
// per process, e.g. "host-1234"). It is a bot.DeliveryQueue: the process takes an even
// share of the shards (one per live sender, counted from their heartbeats), claims
// their replies, and keeps its leases while it sends. Leases are renewed and shards
// taken and given back in the background from the first Claim until Close.
func (q *Delivery) Sender(ch bot.Channel, name string, o SenderOptions) bot.DeliveryQueue {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&o.Hold, 15*time.Second)
	o.Hold = min(o.Hold, MaxLeasePeriod)
	def(&o.Pickup, 500*time.Millisecond)
	def(&o.Poll, 50*time.Millisecond)
	def(&o.Orphans, 5*time.Second)
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = log.With("component", "delivery", "channel", string(ch), "lane", q.lane)
	return &sender{
		q: q, ch: ch, name: name, opt: o, shards: map[int]*heldShard{},
		log: log, beats: bot.NewAlarm(log, slog.LevelWarn, nil), renewals: bot.NewAlarm(log, slog.LevelWarn, nil),
	}
}

// sender is one process's view of a channel's delivery queue.
type sender struct {
	q    *Delivery
	ch   bot.Channel
	name string
	opt  SenderOptions
	log  *slog.Logger

	start  sync.Once
	stop   context.CancelFunc
	done   chan struct{}
	mu     sync.Mutex
	closed bool
	shards map[int]*heldShard
	// beats and renewals say when heartbeats and lease renewals fail, and when they
	// work again (the keeper's own).
	beats, renewals *bot.Alarm
	// orphansAt is when Claim last looked for orphans.
	orphansAt time.Time
	// look is when Claim last read every shard it holds; in between, a Claim woken by
	// this process's messages reads the shards they went to, and those whose last read
	// filled its part (more may wait there). Every Poll it reads them all again, for
	// what other processes queued and what a shard taken over holds.
	look shardLook
}

// heldShard is a shard the process holds a lease on.
type heldShard struct {
	fence    string        // the lease's token: the replies claimed under it carry it
	lost     chan struct{} // closed when the lease is lost or given back
	renewed  time.Time     // the last renewal that succeeded
	draining bool          // to be given back once its claimed replies are finished
	out      int           // replies claimed and not yet acknowledged or failed
	// claimed are the entries handed out under this lease and not finished: an entry
	// pending for this process in Redis but not here was read without the answer
	// arriving (orphans).
	claimed map[string]bool
}

var _ bot.DeliveryQueue = (*sender)(nil)

// Claim reads up to n replies from the shards the process holds (an even part of n
// from each), in queue order within each shard.
func (s *sender) Claim(ctx context.Context, n int) ([]bot.Delivery, error) {
	s.start.Do(func() {
		kctx, stop := context.WithCancel(context.WithoutCancel(ctx))
		s.stop, s.done = stop, make(chan struct{})
		go func() {
			defer close(s.done)
			s.keep(kctx)
		}()
	})
	wake := s.q.s.wakes.of(s.q.lane, s.ch)
	woken := wake.wait() // before reading: a message queued meanwhile wakes it
	signalled := wake.take()
	held := s.readable()
	var out []bot.Delivery
	var errs []error
	if s.orphansDue() {
		out = append(out, s.orphans(ctx, held, n)...)
		n -= len(out)
	}
	var shards []int
	if n > 0 {
		shards = s.toRead(held, signalled)
	} else {
		s.mu.Lock()
		s.look.more |= signalled // read at the next Claim
		s.mu.Unlock()
	}
	if len(shards) > 0 && n > 0 {
		// No more than n in all: an even part of n from each shard, or one from each
		// of n shards (in random order) when there are more shards than n; those left
		// are read next time.
		var more shardSet
		if n < len(shards) {
			for _, sh := range shards[max(n, 1):] {
				more.add(sh)
			}
			shards = shards[:max(n, 1)]
		}
		per := max(1, n/len(shards))
		got, failed := s.q.readMany(ctx, s.ch, s.name, shards, per)
		for i, sh := range shards {
			switch err := failed[i]; {
			case errors.Is(err, ErrLeaseLost):
				// Given up since readable: the next holder reads it.
			case err != nil:
				errs = append(errs, err)
				more.add(sh)
			default:
				if len(got[i]) >= per {
					more.add(sh)
				}
				out = append(out, s.claimed(sh, got[i])...)
			}
		}
		s.mu.Lock()
		s.look.more = more
		s.mu.Unlock()
	}
	// What was read is the caller's to send even when other shards failed: those are
	// read again at the next claim.
	if len(out) > 0 {
		return out, nil
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("%d of %d shards: %w", len(errs), len(shards), errs[0])
	}
	if len(held) == 0 && s.beats.On() {
		// Not an empty queue: one this process cannot reach, and holds nothing of.
		return nil, errors.Join(errUnreachable, bot.Sleep(ctx, s.opt.Poll))
	}
	s.mu.Lock()
	unread := s.look.more != 0
	s.mu.Unlock()
	if unread {
		return nil, nil // shards left out for n: the next Claim reads them at once
	}
	// Nothing: wait for the next poll, or less when this process queues a message.
	t := time.NewTimer(s.opt.Poll)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return nil, fmt.Errorf("redisstore: claim: %w", ctx.Err())
	case <-woken:
	case <-t.C:
	}
	return nil, nil
}

// toRead is what a Claim reads of the shards held: every one once Poll passed since it
// last did, otherwise those signalled and those with more to read (look). The shards
// with more are taken: the read names them again if they still have more, and one
// given up since is not asked for again (a Claim would not wait while it is).
func (s *sender) toRead(held []int, signalled shardSet) []int {
	s.mu.Lock()
	defer s.mu.Unlock()
	want, every := s.look.next(signalled, s.opt.Poll)
	if every {
		return held
	}
	out := held[:0:0]
	for _, sh := range held {
		if want.has(sh) {
			out = append(out, sh)
		}
	}
	return out
}

// readable lists the shards whose new replies may be claimed, in random order, so that
// no shard is always read last.
func (s *sender) readable() []int {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []int
	for sh, h := range s.shards {
		if !h.draining && !isClosed(h.lost) {
			out = append(out, sh)
		}
	}
	rand.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

// claimed counts the replies read from shard as out, and hands them the shard's lost
// channel; replies read under a lease lost since are dropped.
func (s *sender) claimed(shard int, got []bot.Delivery) []bot.Delivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	h := s.shards[shard]
	kept := got[:0]
	for _, d := range got {
		if h != nil && d.Fence == h.fence {
			d.Lost = h.lost
			h.out++
			if h.claimed == nil {
				h.claimed = map[string]bool{}
			}
			h.claimed[d.Entry] = true
			kept = append(kept, d)
		}
	}
	return kept
}

// Ack and Fail refuse at once a reply whose hold this process gave up, even while its
// lease is still in Redis: the process stopped its sends, and the reply is read again
// under the next claim.
func (s *sender) Ack(ctx context.Context, d bot.Delivery) error {
	if d.Lost != nil && isClosed(d.Lost) {
		return fmt.Errorf("finish delivery %s: %w: %w", d.Entry, ErrLeaseLost, bot.ErrClaimLost)
	}
	return s.finished(d, s.q.done(ctx, d))
}

func (s *sender) Fail(ctx context.Context, d bot.Delivery, f bot.DeliveryFailure) error {
	if d.Lost != nil && isClosed(d.Lost) {
		return fmt.Errorf("record failed delivery %s: %w: %w", d.Entry, ErrLeaseLost, bot.ErrClaimLost)
	}
	return s.finished(d, s.q.fail(ctx, d, f))
}

// Attempt records that d's broadcast was tried on its recipient: false when it was
// already (bot.Attempter). The set lives beside the broadcast's shard state, in the
// conversation's slot: <p>:{sNN}:bc:<id>:tried.
func (s *sender) Attempt(ctx context.Context, d bot.Delivery) (bool, error) {
	st := s.q.s
	key := st.broadcastShard(d.Outbound.Broadcast, ShardOf(d.Outbound.Conversation)) + ":tried"
	pipe := st.c.TxPipeline()
	added := pipe.SAdd(ctx, key, d.Outbound.Conversation.Key())
	pipe.PExpire(ctx, key, BroadcastKeep)
	if _, err := pipe.Exec(ctx); err != nil {
		return false, fmt.Errorf("record broadcast %s tried: %w", d.Outbound.Broadcast, err)
	}
	return added.Val() == 1, nil
}

// finished counts a reply done with when the queue update went through, or when the
// lease it was claimed under is lost (the update can never go through: the reply is
// someone else's now).
func (s *sender) finished(d bot.Delivery, err error) error {
	if err != nil && !errors.Is(err, ErrLeaseLost) {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, h := range s.shards {
		if h.fence != d.Fence {
			continue
		}
		h.out--
		delete(h.claimed, d.Entry)
		if err != nil {
			s.lose(h)
		}
	}
	return err
}

// lose marks h lost; the caller holds s.mu.
func (s *sender) lose(h *heldShard) {
	if !isClosed(h.lost) {
		close(h.lost)
	}
}

// Close stops the background work, gives every lease back and leaves the live senders.
func (s *sender) Close(ctx context.Context) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.mu.Unlock()
	s.start.Do(func() {}) // a Claim from now on starts nothing
	if s.stop != nil {
		s.stop()
		<-s.done
	}
	var errs []error
	s.mu.Lock()
	held := s.shards
	s.shards = map[int]*heldShard{}
	s.mu.Unlock()
	for sh, h := range held {
		s.mu.Lock()
		s.lose(h)
		s.mu.Unlock()
		if err := s.q.disown(ctx, s.ch, sh, s.name); err != nil {
			errs = append(errs, err)
		}
	}
	if err := s.q.leave(ctx, s.ch, s.name); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// keep, until ctx ends, beats, renews the leases every Hold/3, gives back the shards
// above the process's share once their claimed replies are finished, and takes free
// shards up to it.
func (s *sender) keep(ctx context.Context) {
	tick := time.NewTicker(min(s.opt.Pickup, s.opt.Hold/3))
	defer tick.Stop()
	for {
		s.renew(ctx)
		s.rebalance(ctx, s.share(ctx))
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// share is how many shards this process should hold: an even part for each live one.
func (s *sender) share(ctx context.Context) int {
	alive, err := s.q.heartbeat(ctx, s.ch, s.name, s.opt.Hold)
	if err != nil {
		if ctx.Err() == nil {
			s.beats.Raise("delivery heartbeat failed; retrying every pickup", "err", err)
		}
		return Shards
	}
	s.beats.Clear("delivery heartbeat works again")
	if alive > 1 {
		return (Shards + alive - 1) / alive
	}
	return Shards
}

// renew extends the leases due for it. A lease that another process holds now (this
// one was too slow to renew), or that could not be renewed for two thirds of its
// period, is lost: the sends of its replies stop, and what they had claimed stays
// queued for the next holder. Stopping before the lease runs out means the next holder
// never sends a reply this process is still sending.
func (s *sender) renew(ctx context.Context) {
	s.mu.Lock()
	due := map[int]*heldShard{}
	for sh, h := range s.shards {
		if time.Since(h.renewed) >= s.opt.Hold/3 {
			due[sh] = h
		}
	}
	s.mu.Unlock()
	var failed, stopped []int
	var lastErr error
	defer func() {
		// One line a round at most, not one a shard: a failed renewal is said once
		// until one works again; stopping shards is said each time it happens.
		if len(stopped) > 0 {
			s.log.Warn("delivery shard leases could not be renewed in time; stopping their sends", "shards", stopped, "err", lastErr)
		}
		switch {
		case len(failed) > 0:
			s.renewals.Raise("renewing delivery shard leases failed; retrying", "shards", len(failed), "err", lastErr)
		case len(due) > len(stopped) && ctx.Err() == nil:
			s.renewals.Clear("renewing delivery shard leases works again")
		}
	}()
	for sh, h := range due {
		ok, err := s.q.own(ctx, s.ch, sh, s.name, s.opt.Hold)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			lastErr = err
		}
		s.mu.Lock()
		switch {
		case err != nil && time.Since(h.renewed) >= s.opt.Hold*2/3:
			stopped = append(stopped, sh)
			s.drop(sh, h)
		case err != nil:
			failed = append(failed, sh)
		case ok:
			h.renewed = time.Now()
		default:
			s.log.Warn("delivery shard taken over by another process; stopping its sends", "shard", sh)
			s.drop(sh, h)
		}
		s.mu.Unlock()
	}
}

// drop forgets a lost shard; the caller holds s.mu.
func (s *sender) drop(sh int, h *heldShard) {
	s.lose(h)
	if s.shards[sh] == h {
		delete(s.shards, sh)
	}
}

// rebalance gives back the drained shards, marks those above share to drain, and
// takes free shards up to share.
func (s *sender) rebalance(ctx context.Context, share int) {
	s.mu.Lock()
	kept := 0
	var release []int
	for sh, h := range s.shards {
		switch {
		case h.draining && h.out <= 0:
			release = append(release, sh)
		case !h.draining:
			kept++
		}
	}
	for sh, h := range s.shards {
		if kept <= share {
			break
		}
		if !h.draining {
			s.log.Debug("giving a shard back", "shard", sh)
			h.draining = true
			kept--
		}
	}
	s.mu.Unlock()
	for _, sh := range release {
		s.giveBack(ctx, sh)
	}
	start := rand.N(Shards)
	for k := 0; k < Shards && kept < share && ctx.Err() == nil; k++ {
		sh := (start + k) % Shards
		s.mu.Lock()
		_, mine := s.shards[sh]
		s.mu.Unlock()
		if mine {
			continue
		}
		ok, err := s.q.own(ctx, s.ch, sh, s.name, s.opt.Hold)
		if err != nil {
			if ctx.Err() == nil && !s.beats.On() { // else the heartbeat said it
				s.log.Warn("taking a delivery shard failed", "shard", sh, "err", err)
			}
			return
		}
		if !ok {
			continue
		}
		fence, held := s.q.fence(s.ch, sh, s.name)
		if !held {
			continue
		}
		s.mu.Lock()
		s.shards[sh] = &heldShard{fence: fence, lost: make(chan struct{}), renewed: time.Now()}
		s.mu.Unlock()
		kept++
	}
}

// giveBack releases a drained shard's lease.
func (s *sender) giveBack(ctx context.Context, sh int) {
	s.mu.Lock()
	h := s.shards[sh]
	if h == nil {
		s.mu.Unlock()
		return
	}
	s.drop(sh, h)
	s.mu.Unlock()
	if err := s.q.disown(ctx, s.ch, sh, s.name); err != nil {
		s.log.Warn("giving a delivery shard back failed; it frees itself when its lease ends", "shard", sh, "err", err)
	}
}

func isClosed(c <-chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

// errUnreachable is a Claim's answer while the process holds no shard because Redis is
// out of its reach.
var errUnreachable = errors.New("redisstore: claim: the delivery queue is out of reach (heartbeats fail)")
