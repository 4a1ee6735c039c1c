package redistest

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"

	"github.com/redis/go-redis/v9"

	"github.com/sangkien/sangkien/bot"
)

// ErrFault is what a FaultyStore's refused calls, and commands during an Outage, return.
var ErrFault = errors.New("redistest: store fault")

// FaultyStore is a bot.Store that fails on command, as a real one does when Redis drops
// the connection or the process holding a conversation is killed. It wraps a real store
// (a redisstore.Store on the test's server), so everything it lets through is real: the
// engine under test meets the faults from outside, through the Store it was given.
// Begin is always the wrapped store's: a killed process took its locks before it died.
type FaultyStore struct {
	bot.Store

	mu          sync.Mutex
	commitFails int
	crashed     bool
}

// NewFaultyStore wraps st; until told otherwise it passes every call on.
func NewFaultyStore(st bot.Store) *FaultyStore { return &FaultyStore{Store: st} }

// FailCommits makes the next n commits fail with ErrFault and write nothing, as a
// connection reset in the middle of a commit would. Release still works.
func (s *FaultyStore) FailCommits(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.commitFails = n
}

// Crash makes the store stand for a process killed right after it took a conversation:
// from now on Commit and Release fail with ErrFault and do nothing, so whatever Begin
// loaded is never written and the conversation's lock stays held until its TTL ends.
func (s *FaultyStore) Crash() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.crashed = true
}

// Commit fails while commits are told to fail or after a crash; otherwise it is the
// wrapped store's.
func (s *FaultyStore) Commit(ctx context.Context, l *bot.Lease, c bot.Change) error {
	s.mu.Lock()
	fail := s.crashed || s.commitFails > 0
	if s.commitFails > 0 {
		s.commitFails--
	}
	s.mu.Unlock()
	if fail {
		return ErrFault
	}
	return s.Store.Commit(ctx, l, c)
}

// Release does nothing after a crash; otherwise it is the wrapped store's.
func (s *FaultyStore) Release(ctx context.Context, l *bot.Lease) error {
	s.mu.Lock()
	crashed := s.crashed
	s.mu.Unlock()
	if crashed {
		return ErrFault
	}
	return s.Store.Release(ctx, l)
}

// Outage is a go-redis hook that fails every command while it is on, as when the Redis
// server is out of reach for one process while the others still reach it. Add it to a
// client of the test's server (Client(t).AddHook(o)); Begin and End switch it.
type Outage struct {
	on atomic.Bool
}

// Begin makes every command from now on fail with ErrFault, sending nothing.
func (o *Outage) Begin() { o.on.Store(true) }

// End lets commands through again.
func (o *Outage) End() { o.on.Store(false) }

func (o *Outage) DialHook(next redis.DialHook) redis.DialHook { return next }

func (o *Outage) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if o.on.Load() {
			cmd.SetErr(ErrFault)
			return ErrFault
		}
		return next(ctx, cmd)
	}
}

func (o *Outage) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		if o.on.Load() {
			for _, c := range cmds {
				c.SetErr(ErrFault)
			}
			return ErrFault
		}
		return next(ctx, cmds)
	}
}
