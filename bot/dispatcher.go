package bot

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// DispatcherConfig configures a Dispatcher. Zero durations and counts take defaults.
type DispatcherConfig struct {
	Channel  Channel
	Queue    DeliveryQueue
	Limiter  RateLimiter
	Sender   Sender
	Consumer string // unique per process, e.g. "host-1234"
	Logger   *slog.Logger
	// Limit sends per Window for the whole channel (a bot, an app), shared by every
	// process: Telegram allows 30 a second, Zalo 4,000 a minute.
	Limit  int
	Window time.Duration
	// About one message per ChatInterval to one chat, in bursts of up to ChatBurst.
	ChatInterval time.Duration
	ChatBurst    int
	// MaxAttempts bounds the tries of a message that fails with a retryable error;
	// Backoff is the first wait, doubled after each try (with jitter) up to MaxBackoff.
	MaxAttempts int
	Backoff     time.Duration
	MaxBackoff  time.Duration
	// MaxRateLimited bounds how often one message may be answered "wait" (429, quiet
	// hours, quota) before it fails.
	MaxRateLimited int
	// LeaseTTL is how long a killed process holds its shards (15s, at most
	// redisstore.MaxLeasePeriod): replies of its conversations resume within it.
	LeaseTTL time.Duration
	// Pickup is how often free shards are looked for (500ms): a process that stopped
	// cleanly gave its shards back, and another takes them within about this long.
	Pickup time.Duration
	Poll   time.Duration // how often an idle shard is read (100ms)
	Batch  int           // entries read at once from a shard (50)
	// Events, when set, is handed an EventUnfollow when the channel says a citizen
	// blocked the bot or left, as if they had unfollowed: the flows mark them
	// unreachable, and a later message from them makes them reachable again.
	Events EventHandler
}

// Dispatcher sends one channel's queued replies: it takes a fair share of the queue's
// shards, keeps each conversation's replies in order, lets a waiting conversation hold
// up no other, and keeps to the channel's limits.
type Dispatcher struct {
	cfg DispatcherConfig
	log *slog.Logger
}

// NewDispatcher builds a Dispatcher.
func NewDispatcher(cfg DispatcherConfig) (*Dispatcher, error) {
	if cfg.Queue == nil || cfg.Sender == nil || cfg.Limiter == nil || cfg.Channel == "" || cfg.Consumer == "" {
		return nil, errors.New("dispatcher: channel, queue, limiter, sender and consumer are required")
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	defInt := func(n *int, v int) {
		if *n <= 0 {
			*n = v
		}
	}
	defInt(&cfg.Limit, 30)
	def(&cfg.Window, time.Second)
	def(&cfg.ChatInterval, time.Second)
	defInt(&cfg.ChatBurst, 3)
	defInt(&cfg.MaxAttempts, 6)
	def(&cfg.Backoff, time.Second)
	def(&cfg.MaxBackoff, time.Minute)
	defInt(&cfg.MaxRateLimited, 20)
	def(&cfg.LeaseTTL, 15*time.Second)
	def(&cfg.Pickup, 500*time.Millisecond)
	def(&cfg.Poll, 100*time.Millisecond)
	defInt(&cfg.Batch, 50)
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Dispatcher{cfg: cfg, log: log.With("component", "delivery", "channel", string(cfg.Channel))}, nil
}

// Run sends until ctx ends, then gives its shards back and leaves the live senders at
// once, so that the others take its shards over within a Pickup rather than a LeaseTTL.
// Replies being sent when ctx ends stay queued for the next owner of their shard.
func (d *Dispatcher) Run(ctx context.Context) error {
	c := d.cfg
	owned := map[int]*shardRun{}
	defer d.leave(ctx, owned)
	// Every Pickup this process beats and looks for free shards: a process that stopped
	// cleanly left and gave its shards back, and they are taken within that time. A
	// killed one stays counted, and its shards held, for one LeaseTTL.
	tick := time.NewTicker(min(c.Pickup, c.LeaseTTL/3))
	defer tick.Stop()
	for {
		for i, r := range owned {
			select {
			case <-r.done:
				delete(owned, i)
			default:
			}
		}
		d.rebalance(ctx, owned, d.share(ctx))
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

// leave waits for the shards to be given back, then takes this process out of the
// live senders.
func (d *Dispatcher) leave(ctx context.Context, owned map[int]*shardRun) {
	for _, r := range owned {
		<-r.done
	}
	lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := d.cfg.Queue.Leave(lctx, d.cfg.Channel, d.cfg.Consumer); err != nil {
		d.log.Warn("leaving the delivery senders failed; the others count this process gone after LeaseTTL", "err", err)
	}
}

// shardRun is a shard this process sends for.
type shardRun struct {
	drain chan struct{} // closed to give the shard back once its sends are done
	done  chan struct{} // closed when the shard is given back or lost
}

// share is how many shards this process should own: an even part for each live process.
func (d *Dispatcher) share(ctx context.Context) int {
	c := d.cfg
	n := c.Queue.Shards()
	alive, err := c.Queue.Heartbeat(ctx, c.Channel, c.Consumer, c.LeaseTTL)
	if err != nil {
		if ctx.Err() == nil {
			d.log.Warn("delivery heartbeat failed", "err", err)
		}
		return n
	}
	if alive > 1 {
		return (n + alive - 1) / alive
	}
	return n
}

// rebalance takes free shards up to share and gives back the ones above it.
func (d *Dispatcher) rebalance(ctx context.Context, owned map[int]*shardRun, share int) {
	c := d.cfg
	n := c.Queue.Shards()
	draining := 0
	for _, r := range owned {
		select {
		case <-r.drain:
			draining++
		default:
		}
	}
	for i, r := range owned {
		if len(owned)-draining <= share {
			break
		}
		select {
		case <-r.drain:
		default:
			d.log.Debug("giving a shard back", "shard", i)
			close(r.drain)
			draining++
		}
	}
	start := rand.N(n)
	for k := 0; k < n && len(owned)-draining < share && ctx.Err() == nil; k++ {
		i := (start + k) % n
		if owned[i] != nil {
			continue
		}
		ok, err := c.Queue.Own(ctx, c.Channel, i, c.Consumer, c.LeaseTTL)
		if err != nil {
			if ctx.Err() == nil {
				d.log.Warn("taking a delivery shard failed", "shard", i, "err", err)
			}
			return
		}
		if !ok {
			continue
		}
		r := &shardRun{drain: make(chan struct{}), done: make(chan struct{})}
		owned[i] = r
		go func() {
			defer close(r.done)
			d.runShard(ctx, i, r.drain)
		}()
	}
}

// runShard reads one owned shard in order and hands each entry to its conversation's
// sender goroutine, until told to drain, the lease is lost, or ctx ends. The lease is
// renewed until the last send it covers is finished, so no other process can take the
// shard over while a reply it read is still being sent.
func (d *Dispatcher) runShard(ctx context.Context, shard int, drain <-chan struct{}) {
	c := d.cfg
	log := d.log.With("shard", shard)
	sctx, lost := context.WithCancel(ctx)
	defer lost()
	renewing := make(chan struct{})
	renewed := make(chan struct{})
	go func() {
		defer close(renewed)
		d.keepLease(sctx, shard, renewing, lost, log)
	}()
	convs := newConvLines(d, sctx)
read:
	for sctx.Err() == nil {
		select {
		case <-drain:
			break read
		default:
		}
		var batch []Delivery
		if convs.pending() < 4*c.Batch {
			var err error
			batch, err = c.Queue.Read(sctx, c.Channel, shard, c.Consumer, c.Batch)
			if err != nil && sctx.Err() == nil {
				log.Warn("reading the delivery queue failed", "err", err)
			}
		}
		for _, del := range batch {
			convs.add(del)
		}
		if len(batch) == 0 {
			select {
			case <-drain:
				break read
			case <-sctx.Done():
			case <-time.After(c.Poll):
			}
		}
	}
	convs.wait()
	close(renewing)
	<-renewed
	if sctx.Err() != nil && ctx.Err() == nil {
		return // lost: the shard is someone else's now
	}
	if err := c.Queue.Disown(context.WithoutCancel(ctx), c.Channel, shard, c.Consumer); err != nil {
		log.Warn("giving a delivery shard back failed; it frees itself when its lease ends", "err", err)
	}
}

// keepLease renews the shard's lease every third of its life until done is closed. When
// another process holds it (this one was too slow to renew), lost stops the shard's
// sends: what they had read stays queued for the new owner.
func (d *Dispatcher) keepLease(ctx context.Context, shard int, done <-chan struct{}, lost func(), log *slog.Logger) {
	c := d.cfg
	t := time.NewTicker(c.LeaseTTL / 3)
	defer t.Stop()
	renewed := time.Now()
	for {
		select {
		case <-done:
			return
		case <-ctx.Done():
			return
		case <-t.C:
		}
		ok, err := c.Queue.Own(ctx, c.Channel, shard, c.Consumer, c.LeaseTTL)
		switch {
		case err != nil && ctx.Err() == nil && time.Since(renewed) >= c.LeaseTTL*2/3:
			// The lease may run out before Redis answers again, and another process
			// would then send what this one is sending: stop first.
			log.Warn("delivery shard lease could not be renewed in time; stopping its sends", "err", err)
			lost()
			return
		case err != nil && ctx.Err() == nil:
			log.Warn("renewing a delivery shard failed", "err", err)
		case err == nil && ok:
			renewed = time.Now()
		case err == nil && !ok:
			log.Warn("delivery shard taken over by another process; stopping its sends")
			lost()
			return
		}
	}
}

// convLines runs one sender goroutine per conversation with queued replies, so that a
// conversation's replies go out in order and a waiting one holds up no other.
type convLines struct {
	d     *Dispatcher
	ctx   context.Context
	mu    sync.Mutex
	queue map[string][]Delivery
	pace  map[string]*chatPace
	gone  map[string]time.Time
	n     int
	wg    sync.WaitGroup
}

func newConvLines(d *Dispatcher, ctx context.Context) *convLines {
	return &convLines{d: d, ctx: ctx, queue: map[string][]Delivery{}, pace: map[string]*chatPace{}, gone: map[string]time.Time{}}
}

func (l *convLines) pending() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.n
}

func (l *convLines) add(del Delivery) {
	key := del.Outbound.Conversation.Key()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.n++
	q, busy := l.queue[key]
	l.queue[key] = append(q, del)
	if busy {
		return
	}
	if l.pace[key] == nil {
		l.pace[key] = newChatPace(l.d.cfg.ChatInterval, l.d.cfg.ChatBurst)
	}
	l.wg.Add(1)
	go l.run(key, l.pace[key])
}

// run sends the conversation's queued replies one after another.
func (l *convLines) run(key string, pace *chatPace) {
	defer l.wg.Done()
	for {
		l.mu.Lock()
		q := l.queue[key]
		if len(q) == 0 || l.ctx.Err() != nil {
			delete(l.queue, key)
			l.mu.Unlock()
			return
		}
		del := q[0]
		goneSince, gone := l.gone[key]
		l.mu.Unlock()

		if gone && del.QueuedAt.Before(goneSince) {
			// Queued before the channel said the citizen is gone: do not knock again.
			// Replies queued later answer a citizen who came back, and are sent.
			l.d.fail(l.ctx, del, &SendError{Failure: Gone, Detail: "citizen is unreachable on this channel"}, 0)
		} else if l.d.deliver(l.ctx, del, pace) == Gone {
			l.mu.Lock()
			l.gone[key] = time.Now()
			l.mu.Unlock()
		}
		if l.ctx.Err() != nil {
			return // unfinished: the entry stays queued for the shard's next owner
		}
		l.mu.Lock()
		l.queue[key] = l.queue[key][1:]
		l.n--
		l.mu.Unlock()
	}
}

func (l *convLines) wait() { l.wg.Wait() }

// chatPace spaces one conversation's sends: a token bucket of burst tokens that refills
// one token per interval. Only the shard's owner sends to a conversation, so it lives
// in this process; the channel-wide limit that every process shares stays in Redis
// (RateLimiter), which x/time/rate cannot be.
type chatPace struct {
	lim *rate.Limiter
}

func newChatPace(interval time.Duration, burst int) *chatPace {
	return &chatPace{lim: rate.NewLimiter(rate.Every(interval), burst)}
}

// delay is how long the next send to the chat must wait.
func (p *chatPace) delay() time.Duration {
	tokens := p.lim.Tokens()
	if tokens >= 1 {
		return 0
	}
	return time.Duration((1 - tokens) * float64(time.Second) / float64(p.lim.Limit()))
}

// wait blocks until a send to the chat is allowed and takes a token.
func (p *chatPace) wait(ctx context.Context) error {
	return p.lim.Wait(ctx)
}

// deliver sends one reply until it is sent or fails for good, and finishes its entry.
// It returns how it failed (Gone matters to the caller), or -1 when sent.
func (d *Dispatcher) deliver(ctx context.Context, del Delivery, pace *chatPace) SendFailure {
	c := d.cfg
	attempts, waits := 0, 0
	if typer, ok := c.Sender.(Typer); ok && pace.delay() >= time.Second/2 {
		if err := typer.ShowTyping(ctx, del.Outbound.Conversation); err != nil {
			d.log.Debug("typing action failed", "conversation", MaskID(del.Outbound.Conversation.Key()), "err", err)
		}
	}
	for {
		if pace.wait(ctx) != nil || d.waitLimit(ctx) != nil {
			return Retryable
		}
		attempts++
		err := c.Sender.Send(ctx, del.Outbound)
		if err == nil {
			d.finish(ctx, del, func(ctx context.Context) error { return c.Queue.Done(ctx, del) })
			return -1
		}
		if ctx.Err() != nil {
			return Retryable
		}
		var se *SendError
		if !errors.As(err, &se) {
			se = &SendError{Failure: Retryable, Err: err}
		}
		var wait time.Duration
		switch se.Failure {
		case RateLimited, Held:
			waits++
			attempts--
			if waits > c.MaxRateLimited {
				d.fail(ctx, del, se, attempts+waits)
				return se.Failure
			}
			// Exactly as long as the provider said: never earlier.
			wait = se.RetryAfter
			if wait <= 0 {
				wait = d.backoff(waits)
			}
			d.log.Info("send must wait", "conversation", MaskID(del.Outbound.Conversation.Key()), "reply", del.Outbound.ID, "failure", se.Failure.String(), "wait", wait)
		case Retryable:
			if attempts >= c.MaxAttempts {
				d.fail(ctx, del, se, attempts)
				return Retryable
			}
			wait = d.backoff(attempts)
			d.log.Info("send failed, retrying", "conversation", MaskID(del.Outbound.Conversation.Key()), "reply", del.Outbound.ID, "attempt", attempts, "wait", wait, "err", se.Error())
		case Gone:
			d.fail(ctx, del, se, attempts)
			if c.Events != nil {
				if err := d.markGone(ctx, del.Outbound); err != nil {
					d.log.Warn("marking a citizen unreachable failed", "conversation", MaskID(del.Outbound.Conversation.Key()), "err", err)
				}
			}
			return Gone
		default:
			d.fail(ctx, del, se, attempts)
			return se.Failure
		}
		if sleep(ctx, wait) != nil {
			return Retryable
		}
	}
}

// markGone tells the conversation the citizen is unreachable. The event id is derived
// from the reply, so a mark retried (the entry sent again after a crash) is a duplicate.
func (d *Dispatcher) markGone(ctx context.Context, o Outbound) error {
	_, err := d.cfg.Events.Handle(ctx, Event{
		ID: "gone:" + o.ID, Conversation: o.Conversation, Kind: EventUnfollow, At: time.Now(),
	})
	return err
}

// backoff is the wait after the n-th failed try.
func (d *Dispatcher) backoff(n int) time.Duration {
	return Backoff{Base: d.cfg.Backoff, Max: d.cfg.MaxBackoff}.Wait(n)
}

// waitLimit waits until the channel-wide limit lets one more send through.
func (d *Dispatcher) waitLimit(ctx context.Context) error {
	c := d.cfg
	for n := 1; ; {
		wait, err := c.Limiter.Reserve(ctx, string(c.Channel), c.Limit, c.Window)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			d.log.Warn("rate limiter unavailable; waiting", "err", err)
			wait = d.backoff(n)
			n++
		} else if wait <= 0 {
			return nil
		}
		if err := sleep(ctx, wait); err != nil {
			return err
		}
	}
}

// fail records the reply as undeliverable and removes it from the queue.
func (d *Dispatcher) fail(ctx context.Context, del Delivery, se *SendError, attempts int) {
	d.log.Warn("reply not delivered", "conversation", MaskID(del.Outbound.Conversation.Key()), "reply", del.Outbound.ID,
		"failure", se.Failure.String(), "code", se.Code, "detail", se.Detail, "attempts", attempts)
	// The record names the reply, not what it said: the text may hold the citizen's
	// answers, and "forget me" erases the transcript, not these records.
	o := del.Outbound
	o.Reply = Reply{}
	f := DeliveryFailure{Outbound: o, Failure: se.Failure.String(), Code: se.Code, Detail: se.Detail, Attempts: attempts, At: time.Now()}
	if se.Err != nil && f.Detail == "" {
		f.Detail = se.Err.Error()
	}
	d.finish(ctx, del, func(ctx context.Context) error { return d.cfg.Queue.Fail(ctx, del, f) })
}

// finish retries a queue update through a Redis outage; if ctx ends first the entry
// stays queued and the shard's next owner sends it again.
func (d *Dispatcher) finish(ctx context.Context, del Delivery, update func(context.Context) error) {
	for n := 1; ; n++ {
		err := update(ctx)
		if err == nil || ctx.Err() != nil {
			return
		}
		d.log.Warn("updating the delivery queue failed", "reply", del.Outbound.ID, "err", err)
		if sleep(ctx, d.backoff(n)) != nil {
			return
		}
	}
}

// sleep waits for d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
