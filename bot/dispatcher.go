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
	// Queue holds the replies: answers to a citizen who just wrote, notices about
	// their own submission, a staff member's reply. They are paced per chat and by the
	// provider's own answers (429 and its retry_after), not by a channel-wide limit
	// unless ReplyLimit sets one, and never wait behind bulk messages.
	Queue DeliveryQueue
	// Bulk, when set, holds bulk messages (broadcasts, reminders): they go out after
	// the replies of the same chat and within the channel-wide Limit.
	Bulk    DeliveryQueue
	Limiter RateLimiter
	Sender  Sender
	Logger  *slog.Logger
	// Limit bulk sends per Window for the whole channel (a bot, an app), shared by
	// every process: Telegram allows about 30 a second to many users.
	Limit  int
	Window time.Duration
	// ReplyLimit, when above 0, bounds the replies too, per ReplyWindow, for the whole
	// channel: a ceiling some bot owners want. None by default.
	ReplyLimit  int
	ReplyWindow time.Duration
	// OneLimit counts replies and bulk against one limit, Limit per Window, for a
	// provider whose quota covers every request (Zalo: 4,000 a minute per app).
	OneLimit bool
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
	// Batch is how many messages one claim takes (50). Once MaxPending messages of a
	// lane wait in this process (5,000: messages waiting for their chat's pace count),
	// it claims no more until one is done: a bound on memory, high enough that a crowd
	// of paced chats does not hold up the first reply to a new one.
	Batch      int
	MaxPending int
	// BulkQuiet, when set, holds bulk messages in quiet hours (replies go on): Next(t)
	// is t when a bulk message may go at t, else the end of the quiet hours t falls in.
	// broadcast.QuietHours is one; bot names only the method, so as not to import it.
	BulkQuiet interface{ Next(time.Time) time.Time }
	// Now is the clock quiet hours are read on (time.Now); tests set their own.
	Now func() time.Time
	// QuietCheck bounds how long a bulk lane held for quiet hours sleeps before it
	// reads the clock again (a minute): one sleep to the end of the night would
	// overshoot it after the clock is set right or the machine is paused.
	QuietCheck time.Duration
	// Events, when set, is handed an EventUnfollow when the channel says a citizen
	// blocked the bot or left, as if they had unfollowed: the flows mark them
	// unreachable, and a later message from them makes them reachable again.
	Events EventHandler
	// Gate, when set, is asked about each bulk message as its turn comes: a recipient
	// who said stop or erased their data since it was queued is skipped, and counted.
	Gate BulkGate
}

// Dispatcher sends one channel's queued messages in two lanes, replies and bulk: it
// claims them from their queues, keeps each conversation's messages of a lane in order,
// lets a waiting conversation hold up no other, and keeps to the channel's limits.
type Dispatcher struct {
	cfg   DispatcherConfig
	log   *slog.Logger
	chats *chats
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
	def(&cfg.ReplyWindow, time.Second)
	def(&cfg.ChatInterval, time.Second)
	defInt(&cfg.ChatBurst, 3)
	defInt(&cfg.MaxAttempts, 6)
	def(&cfg.Backoff, time.Second)
	def(&cfg.MaxBackoff, time.Minute)
	defInt(&cfg.MaxRateLimited, 20)
	defInt(&cfg.Batch, 50)
	defInt(&cfg.MaxPending, 5000)
	def(&cfg.QuietCheck, time.Minute)
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Dispatcher{
		cfg:   cfg,
		log:   log.With("component", "delivery", "channel", string(cfg.Channel)),
		chats: &chats{pace: map[string]*chatPace{}, gone: map[string]time.Time{}, interval: cfg.ChatInterval, burst: cfg.ChatBurst},
	}, nil
}

// Run sends until ctx ends, then closes the queues, which gives what this process
// holds back at once. Messages being sent when ctx ends stay queued for their next
// holder.
func (d *Dispatcher) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	for _, l := range d.lanes() {
		wg.Go(func() { l.run(ctx) })
	}
	wg.Wait()
	return nil
}

// sendLimit is a channel-wide limit: n sends per window, counted under key.
type sendLimit struct {
	key    string
	n      int
	window time.Duration
}

// lanes are the replies' lane and, when there is a bulk queue, the bulk lane.
func (d *Dispatcher) lanes() []*lane {
	c := d.cfg
	bulk := &sendLimit{key: string(c.Channel), n: c.Limit, window: c.Window}
	var replies *sendLimit
	switch {
	case c.OneLimit:
		replies = bulk
	case c.ReplyLimit > 0:
		replies = &sendLimit{key: string(c.Channel) + ":replies", n: c.ReplyLimit, window: c.ReplyWindow}
	}
	out := []*lane{{d: d, name: "replies", q: c.Queue, limit: replies, typing: true, turn: make(chan struct{}, 1)}}
	if c.Bulk != nil {
		bl := &lane{d: d, name: "bulk", q: c.Bulk, limit: bulk, gate: c.Gate, turn: make(chan struct{}, 1)}
		bl.attempts, _ = c.Bulk.(Attempter)
		bl.pauser, _ = c.Limiter.(RatePauser)
		if c.BulkQuiet != nil {
			bl.quiet = &quietGate{hours: c.BulkQuiet, now: c.Now, check: c.QuietCheck, log: d.log.With("lane", "bulk")}
		}
		out = append(out, bl)
	}
	return out
}

// lane sends one queue's messages.
type lane struct {
	d      *Dispatcher
	name   string
	q      DeliveryQueue
	limit  *sendLimit // nil: none
	typing bool       // show "typing…" before a message that must wait
	quiet  *quietGate // nil: the lane sends at any hour
	gate   BulkGate   // nil: every message goes
	// attempts, when set, has each broadcast's recipient tried at most once.
	attempts Attempter
	// pauser, when set, holds the lane's limit after a "too many" answer: the bulk
	// lane's (a reply's 429 may be one chat's, and holds that chat only).
	pauser RatePauser
	// turn lets one of the lane's sends at a time ask the shared limit for a slot: the
	// others wait here, not in Redis, so that thousands of held bulk messages do not
	// poll the limiter together (and slow every reply down).
	turn chan struct{}
}

// run claims and sends until ctx ends, then closes the queue.
func (l *lane) run(ctx context.Context) {
	d, c := l.d, l.d.cfg
	log := d.log.With("lane", l.name)
	claims := NewAlarm(log, slog.LevelWarn, nil)
	convs := newConvLines(l, ctx)
	for failed := 0; ctx.Err() == nil; {
		// In quiet hours nothing more is claimed: what is queued stays free for the
		// morning, in this process or another.
		if l.quiet.wait(ctx) != nil {
			break
		}
		if convs.pending() >= c.MaxPending {
			select {
			case <-ctx.Done():
			case <-convs.room:
			}
			continue
		}
		batch, err := l.q.Claim(ctx, c.Batch)
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			failed++
			claims.Raise("claiming messages failed; retrying", "err", err)
			_ = Sleep(ctx, min(d.backoff(failed), maxClaimPause))
			continue
		}
		failed = 0
		claims.Clear("claiming messages works again")
		for _, del := range batch {
			convs.add(del)
		}
	}
	convs.wait()
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := l.q.Close(cctx); err != nil {
		log.Warn("giving the delivery queue back failed; another process takes over when this one's hold runs out", "err", err)
	}
}

// maxClaimPause bounds the pause after the queue failed: Redis coming back should not
// find the dispatcher asleep for MaxBackoff.
const maxClaimPause = 5 * time.Second

// chats is what the lanes share about each chat: its pace, and since when the channel
// says the citizen is gone.
type chats struct {
	mu       sync.Mutex
	pace     map[string]*chatPace
	gone     map[string]time.Time
	interval time.Duration
	burst    int
	added    int
}

// paceOf is the chat's pace, made on first use. Now and then the paces of chats that
// have waited long enough to be full again are dropped: a new one is the same.
func (cs *chats) paceOf(key string) *chatPace {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if p := cs.pace[key]; p != nil {
		return p
	}
	if cs.added++; cs.added%1024 == 0 {
		for k, p := range cs.pace {
			if p.full() {
				delete(cs.pace, k)
			}
		}
	}
	p := newChatPace(cs.interval, cs.burst)
	cs.pace[key] = p
	return p
}

func (cs *chats) goneSince(key string) (time.Time, bool) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	t, ok := cs.gone[key]
	return t, ok
}

func (cs *chats) markGone(key string) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	cs.gone[key] = time.Now()
}

// convLines runs one sender goroutine per conversation with queued messages in a lane,
// so that a conversation's messages go out in order and a waiting one holds up no other.
type convLines struct {
	l     *lane
	ctx   context.Context
	mu    sync.Mutex
	queue map[string][]Delivery
	n     int
	room  chan struct{} // a message was done with: there may be room for more
	wg    sync.WaitGroup
}

func newConvLines(l *lane, ctx context.Context) *convLines {
	return &convLines{l: l, ctx: ctx, queue: map[string][]Delivery{}, room: make(chan struct{}, 1)}
}

func (cl *convLines) pending() int {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	return cl.n
}

func (cl *convLines) add(del Delivery) {
	key := del.Outbound.Conversation.Key()
	cl.mu.Lock()
	defer cl.mu.Unlock()
	cl.n++
	q, busy := cl.queue[key]
	cl.queue[key] = append(q, del)
	if busy {
		return
	}
	cl.wg.Add(1)
	go cl.run(key)
}

// run sends the conversation's queued messages one after another.
func (cl *convLines) run(key string) {
	defer cl.wg.Done()
	l := cl.l
	for {
		cl.mu.Lock()
		q := cl.queue[key]
		if len(q) == 0 || cl.ctx.Err() != nil {
			delete(cl.queue, key)
			cl.mu.Unlock()
			return
		}
		del := q[0]
		cl.mu.Unlock()
		goneSince, gone := l.d.chats.goneSince(key)

		ctx, cancel := holdContext(cl.ctx, del.Lost)
		switch {
		case ctx.Err() != nil:
			// Lost before its turn: the message is its new holder's to send.
		case gone && del.QueuedAt.Before(goneSince):
			// Queued before the channel said the citizen is gone: do not knock again.
			// Messages queued later answer a citizen who came back, and are sent.
			l.fail(ctx, del, &SendError{Failure: Gone, Detail: "citizen is unreachable on this channel"}, 0)
		default:
			if del, ok := l.admit(ctx, del); ok && l.deliver(ctx, del, l.d.chats.paceOf(key)) == Gone {
				l.d.chats.markGone(key)
			}
		}
		cancel()
		if cl.ctx.Err() != nil {
			return // unfinished: the message stays queued for its next holder
		}
		cl.mu.Lock()
		cl.queue[key] = cl.queue[key][1:]
		cl.n--
		cl.mu.Unlock()
		select {
		case cl.room <- struct{}{}:
		default:
		}
	}
}

func (cl *convLines) wait() { cl.wg.Wait() }

// holdContext is ctx, ended too when lost is closed: a send stops once the process no
// longer holds its message.
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
// one token per interval. Only one process sends to a conversation at a time, so it
// lives in this process; the channel-wide limits that every process shares stay in
// Redis (RateLimiter), which x/time/rate cannot be.
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

// full reports whether the bucket has refilled: a new pace would be the same.
func (p *chatPace) full() bool { return p.lim.Tokens() >= float64(p.lim.Burst()) }

// wait blocks until a send to the chat is allowed and takes a token.
func (p *chatPace) wait(ctx context.Context) error {
	return p.lim.Wait(ctx)
}

// deliver sends one message until it is sent or fails for good, and finishes it.
// It returns how it failed (Gone matters to the caller), or -1 when sent.
func (l *lane) deliver(ctx context.Context, del Delivery, pace *chatPace) SendFailure {
	d, c := l.d, l.d.cfg
	attempts, waits, tried := 0, 0, false
	if typer, ok := c.Sender.(Typer); ok && l.typing && pace.delay() >= time.Second/2 {
		if err := typer.ShowTyping(ctx, del.Outbound.Conversation); err != nil {
			d.log.Debug("typing action failed", "conversation", MaskID(del.Outbound.Conversation.Key()), "err", err)
		}
	}
	for {
		// The quiet hours come before the pace and the limit: a message held through
		// the night takes a fresh slot in the morning, so the held ones do not all go
		// at once. They may begin while it waits for its slot: then it is held too.
		if l.quiet.wait(ctx) != nil || pace.wait(ctx) != nil || l.waitLimit(ctx) != nil {
			return Retryable
		}
		if !l.quiet.open() {
			continue
		}
		if !tried && l.attempts != nil && del.Outbound.Broadcast != "" {
			first, err := l.attempts.Attempt(ctx, del)
			if err != nil {
				if ctx.Err() != nil {
					return Retryable
				}
				waits++
				d.log.Warn("recording a broadcast's recipient failed; trying again", "reply", del.Outbound.ID, "err", err)
				if Sleep(ctx, d.backoff(waits)) != nil {
					return Retryable
				}
				continue
			}
			if !first {
				d.log.Info("broadcast message tried before, by a process that stopped mid-send: not sent again",
					"conversation", MaskID(del.Outbound.Conversation.Key()), "reply", del.Outbound.ID)
				l.finish(ctx, del, func(ctx context.Context) error { return l.q.Ack(ctx, del) })
				return -1
			}
			tried = true
		}
		attempts++
		err := c.Sender.Send(ctx, del.Outbound)
		if err == nil {
			l.finish(ctx, del, func(ctx context.Context) error { return l.q.Ack(ctx, del) })
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
				l.fail(ctx, del, se, attempts+waits)
				return se.Failure
			}
			// Exactly as long as the provider said: never earlier.
			wait = se.RetryAfter
			if wait <= 0 {
				wait = d.backoff(waits)
			}
			l.pause(ctx, se)
			d.log.Info("send must wait", "conversation", MaskID(del.Outbound.Conversation.Key()), "reply", del.Outbound.ID, "failure", se.Failure.String(), "wait", wait)
		case Retryable:
			if attempts >= c.MaxAttempts {
				l.fail(ctx, del, se, attempts)
				return Retryable
			}
			wait = d.backoff(attempts)
			d.log.Info("send failed, retrying", "conversation", MaskID(del.Outbound.Conversation.Key()), "reply", del.Outbound.ID, "attempt", attempts, "wait", wait, "err", se.Error())
		case Gone:
			l.fail(ctx, del, se, attempts)
			if c.Events != nil {
				if err := d.markGone(ctx, del.Outbound); err != nil {
					d.log.Warn("marking a citizen unreachable failed", "conversation", MaskID(del.Outbound.Conversation.Key()), "err", err)
				}
			}
			return Gone
		default:
			l.fail(ctx, del, se, attempts)
			return se.Failure
		}
		if Sleep(ctx, wait) != nil {
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

// waitLimit waits until the lane's channel-wide limit, if any, lets one more send
// through.
func (l *lane) waitLimit(ctx context.Context) error {
	if l.limit == nil {
		return nil
	}
	select {
	case l.turn <- struct{}{}:
		defer func() { <-l.turn }()
	case <-ctx.Done():
		return ctx.Err()
	}
	d, lim := l.d, l.limit
	for n := 1; ; {
		wait, err := d.cfg.Limiter.Reserve(ctx, lim.key, lim.n, lim.window)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if n == 1 {
				d.log.Warn("rate limiter unavailable; waiting", "lane", l.name, "err", err)
			}
			wait = d.backoff(n)
			n++
		} else if wait <= 0 {
			return nil
		}
		if err := Sleep(ctx, wait); err != nil {
			return err
		}
	}
}

// admit asks the lane's gate whether a message still goes, and in what form. It
// reports false when the message was skipped (and finished with), or when its hold
// ended while the store could not answer (it is its next holder's then).
func (l *lane) admit(ctx context.Context, del Delivery) (Delivery, bool) {
	if l.gate == nil {
		return del, true
	}
	for n := 1; ; n++ {
		o, skip, err := l.gate.Admit(ctx, del.Outbound)
		if err == nil && skip != "" {
			l.skip(ctx, del, skip, "")
			return del, false
		}
		if err == nil {
			del.Outbound = o
			return del, true
		}
		if ctx.Err() != nil {
			return del, false
		}
		l.d.log.Warn("checking a bulk message's recipient failed; asking again", "reply", del.Outbound.ID, "err", err)
		if Sleep(ctx, l.d.backoff(n)) != nil {
			return del, false
		}
	}
}

// skip finishes a bulk message whose recipient is left out for reason (a Skip
// constant): counted by reason in its broadcast's progress, not kept as a failure.
func (l *lane) skip(ctx context.Context, del Delivery, reason, detail string) {
	l.d.log.Debug("bulk message skipped", "conversation", MaskID(del.Outbound.Conversation.Key()), "reply", del.Outbound.ID,
		"skip", reason, "detail", detail)
	o := del.Outbound
	o.Reply = Reply{}
	f := DeliveryFailure{Outbound: o, Failure: "skipped", Skip: reason, Detail: detail, At: time.Now()}
	l.finish(ctx, del, func(ctx context.Context) error { return l.q.Fail(ctx, del, f) })
}

// goneSkip is why a bulk message to a citizen the channel says is gone is skipped.
func goneSkip(ch Channel, se *SendError) string {
	switch {
	case se.Skip != "":
		return se.Skip
	case ch == Zalo:
		return SkipUnfollowed
	}
	return SkipBlocked
}

// pause holds the lane's whole limit, in every process, for as long as a provider's
// "too many" answer says: the other bulk messages would only draw the same answer.
func (l *lane) pause(ctx context.Context, se *SendError) {
	if l.pauser == nil || l.limit == nil || l.limit.n <= 0 || se.Failure != RateLimited || se.RetryAfter <= 0 {
		return
	}
	if err := l.pauser.Pause(ctx, l.limit.key, se.RetryAfter); err != nil {
		l.d.log.Warn("pausing the lane's limit failed; the others may draw the same answer", "lane", l.name, "err", err)
	}
}

// fail records the message as undeliverable and removes it from the queue; a bulk
// message to a citizen who is gone is counted as skipped instead.
func (l *lane) fail(ctx context.Context, del Delivery, se *SendError, attempts int) {
	d := l.d
	if se.Failure == Gone && del.Outbound.Broadcast != "" {
		l.skip(ctx, del, goneSkip(del.Outbound.Conversation.Channel, se), se.Detail)
		return
	}
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
	l.finish(ctx, del, func(ctx context.Context) error { return l.q.Fail(ctx, del, f) })
}

// finish retries a queue update through a Redis outage; if ctx ends first (or the reply
// is lost: ctx is its hold's) the reply stays queued and its next holder sends it again.
func (l *lane) finish(ctx context.Context, del Delivery, update func(context.Context) error) {
	d := l.d
	for n := 1; ; n++ {
		err := update(ctx)
		if err == nil || ctx.Err() != nil {
			return
		}
		d.log.Warn("updating the delivery queue failed", "reply", del.Outbound.ID, "err", err)
		if Sleep(ctx, d.backoff(n)) != nil {
			return
		}
	}
}
