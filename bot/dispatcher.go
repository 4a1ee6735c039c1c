package bot

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// DispatcherConfig configures a Dispatcher. Zero durations and counts take defaults.
type DispatcherConfig struct {
	Channel Channel
	Queue   DeliveryQueue
	Limiter RateLimiter
	Sender  Sender
	Logger  *slog.Logger
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
	// Batch is how many replies one claim takes (50). Once 4·Batch replies wait in
	// this process, it claims no more until some are sent, looking again every Poll
	// (100ms).
	Batch int
	Poll  time.Duration
	// Events, when set, is handed an EventUnfollow when the channel says a citizen
	// blocked the bot or left, as if they had unfollowed: the flows mark them
	// unreachable, and a later message from them makes them reachable again.
	Events EventHandler
}

// Dispatcher sends one channel's queued replies: it claims them from the queue, keeps
// each conversation's replies in order, lets a waiting conversation hold up no other,
// and keeps to the channel's limits.
type Dispatcher struct {
	cfg DispatcherConfig
	log *slog.Logger
}

// NewDispatcher builds a Dispatcher.
func NewDispatcher(cfg DispatcherConfig) (*Dispatcher, error) {
	if cfg.Queue == nil || cfg.Sender == nil || cfg.Limiter == nil || cfg.Channel == "" {
		return nil, errors.New("dispatcher: channel, queue, limiter and sender are required")
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
	def(&cfg.Poll, 100*time.Millisecond)
	defInt(&cfg.Batch, 50)
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Dispatcher{cfg: cfg, log: log.With("component", "delivery", "channel", string(cfg.Channel))}, nil
}

// Run sends until ctx ends, then closes the queue, which gives what this process holds
// back at once. Replies being sent when ctx ends stay queued for their next holder.
func (d *Dispatcher) Run(ctx context.Context) error {
	c := d.cfg
	convs := newConvLines(d, ctx)
	for failed := 0; ctx.Err() == nil; {
		if convs.pending() >= 4*c.Batch {
			_ = sleep(ctx, c.Poll)
			continue
		}
		batch, err := c.Queue.Claim(ctx, c.Batch)
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			failed++
			if failed == 1 {
				d.log.Warn("claiming replies failed; retrying", "err", err)
			}
			_ = sleep(ctx, min(d.backoff(failed), maxClaimPause))
			continue
		}
		if failed > 0 {
			d.log.Info("claiming replies works again", "failed_claims", failed)
			failed = 0
		}
		for _, del := range batch {
			convs.add(del)
		}
	}
	convs.wait()
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := c.Queue.Close(cctx); err != nil {
		d.log.Warn("giving the delivery queue back failed; another process takes over when this one's hold runs out", "err", err)
	}
	return nil
}

// maxClaimPause bounds the pause after the queue failed: Redis coming back should not
// find the dispatcher asleep for MaxBackoff.
const maxClaimPause = 5 * time.Second

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

		ctx, cancel := holdContext(l.ctx, del.Lost)
		switch {
		case ctx.Err() != nil:
			// Lost before its turn: the reply is its new holder's to send.
		case gone && del.QueuedAt.Before(goneSince):
			// Queued before the channel said the citizen is gone: do not knock again.
			// Replies queued later answer a citizen who came back, and are sent.
			l.d.fail(ctx, del, &SendError{Failure: Gone, Detail: "citizen is unreachable on this channel"}, 0)
		default:
			if l.d.deliver(ctx, del, pace) == Gone {
				l.mu.Lock()
				l.gone[key] = time.Now()
				l.mu.Unlock()
			}
		}
		cancel()
		if l.ctx.Err() != nil {
			return // unfinished: the reply stays queued for its next holder
		}
		l.mu.Lock()
		l.queue[key] = l.queue[key][1:]
		l.n--
		l.mu.Unlock()
	}
}

func (l *convLines) wait() { l.wg.Wait() }

// holdContext is ctx, ended too when lost is closed: a send stops once the process no
// longer holds its reply.
func holdContext(ctx context.Context, lost <-chan struct{}) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(ctx)
	if lost != nil {
		go func() {
			select {
			case <-lost:
				cancel()
			case <-ctx.Done():
			}
		}()
	}
	return ctx, cancel
}

// chatPace spaces one conversation's sends: a token bucket of burst tokens that refills
// one token per interval. Only one process sends to a conversation at a time, so it lives
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
			d.finish(ctx, del, func(ctx context.Context) error { return c.Queue.Ack(ctx, del) })
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

// finish retries a queue update through a Redis outage; if ctx ends first (or the reply
// is lost: ctx is its hold's) the reply stays queued and its next holder sends it again.
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
