package redisstore

import (
	"context"
	"sync"

	"github.com/redis/go-redis/v9"
)

// autoPipe sends the hot path's scripts (an event's Begin and Commit, a reply's ack)
// the way a busy gateway wants them: the calls that goroutines make while a pipeline
// is on the wire go together in the next one. A gateway with 64 events in flight then
// writes one request and reads one answer for many of them, on its side and on Redis's,
// instead of a system call pair each; alone, a call goes at once, as it would without
// it. A cluster client splits each pipeline by node, so every call still reaches the
// master of its own slot.
//
// At most inFlight pipelines are on the wire at a time: enough that Redis never waits
// for the next one, few enough that calls gather.
type autoPipe struct {
	c        redis.UniversalClient
	inFlight int

	mu      sync.Mutex
	queue   []*pipeCall
	running int
}

// pipeCall is one script call waiting for its pipeline.
type pipeCall struct {
	cmd  *redis.Cmd
	done chan struct{}
}

// autoPipeInFlight is autoPipe's bound of pipelines on the wire.
const autoPipeInFlight = 4

func newAutoPipe(c redis.UniversalClient) *autoPipe {
	return &autoPipe{c: c, inFlight: autoPipeInFlight}
}

// run runs script as script.Run does (EVALSHA, and EVAL when the server does not have
// it yet), in the next pipeline. It returns when the answer is there, or when ctx ends
// first: the script may then still run, as a command already written would.
func (p *autoPipe) run(ctx context.Context, script *redis.Script, keys []string, args ...any) *redis.Cmd {
	if err := ctx.Err(); err != nil {
		return errCmd(ctx, err)
	}
	argv := make([]any, 0, 3+len(keys)+len(args))
	argv = append(argv, "evalsha", script.Hash(), len(keys))
	for _, k := range keys {
		argv = append(argv, k)
	}
	argv = append(argv, args...)
	call := &pipeCall{cmd: redis.NewCmd(ctx, argv...), done: make(chan struct{})}
	p.mu.Lock()
	p.queue = append(p.queue, call)
	batch := p.take()
	p.mu.Unlock()
	if batch != nil {
		p.send(batch)
	}
	select {
	case <-call.done:
	case <-ctx.Done():
		return errCmd(ctx, ctx.Err())
	}
	if redis.HasErrorPrefix(call.cmd.Err(), "NOSCRIPT") {
		// The server lost its scripts (a restart, SCRIPT FLUSH, a new cluster node):
		// once alone, through Run, which loads it again.
		return script.Run(ctx, p.c, keys, args...)
	}
	return call.cmd
}

// take returns the waiting calls as the next pipeline, or nil when none wait or
// inFlight pipelines are on the wire already (one of them takes them when it is back).
// p.mu is held.
func (p *autoPipe) take() []*pipeCall {
	if len(p.queue) == 0 || p.running >= p.inFlight {
		return nil
	}
	p.running++
	batch := p.queue
	p.queue = nil
	return batch
}

// send sends batch as one pipeline and hands what gathered meanwhile to a goroutine
// of its own, so that the caller returns with its own answer.
func (p *autoPipe) send(batch []*pipeCall) {
	// Not any one caller's context: the pipeline carries everyone's calls. The client's
	// read and write timeouts bound it.
	ctx := context.Background()
	pipe := p.c.Pipeline()
	for _, c := range batch {
		_ = pipe.Process(ctx, c.cmd)
	}
	_, _ = pipe.Exec(ctx) // each command keeps its own error
	for _, c := range batch {
		close(c.done)
	}
	p.mu.Lock()
	p.running--
	next := p.take()
	p.mu.Unlock()
	if next != nil {
		go p.send(next)
	}
}

// errCmd is a command that failed with err before it was sent.
func errCmd(ctx context.Context, err error) *redis.Cmd {
	cmd := redis.NewCmd(ctx)
	cmd.SetErr(err)
	return cmd
}
