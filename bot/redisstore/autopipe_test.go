package redisstore

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"testing"

	"github.com/redis/go-redis/v9"
)

// gate is a redis.Hook that holds the first pipeline until released, so that a test
// knows every other call is waiting for the next one.
type gate struct {
	once    sync.Once
	held    chan struct{}
	release chan struct{}
}

func (g *gate) DialHook(next redis.DialHook) redis.DialHook {
	return func(ctx context.Context, network, addr string) (net.Conn, error) { return next(ctx, network, addr) }
}

func (g *gate) ProcessHook(next redis.ProcessHook) redis.ProcessHook { return next }

func (g *gate) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		g.once.Do(func() { close(g.held); <-g.release })
		return next(ctx, cmds)
	}
}

// Calls made while a pipeline is on the wire go together in the next one, each with its
// own answer, on keys of many slots (several nodes of a cluster).
func TestAutoPipeGathersCalls(t *testing.T) {
	s, c := newStore(t)
	ctx := context.Background()
	script := redis.NewScript(`return redis.call('INCRBY', KEYS[1], ARGV[1])`)
	if err := script.Load(ctx, c).Err(); err != nil {
		t.Fatal(err)
	}
	g := &gate{held: make(chan struct{}), release: make(chan struct{})}
	c.AddHook(g)
	rt := &RoundTrips{}
	c.AddHook(rt)
	p := &autoPipe{c: c, inFlight: 1}

	const calls = 100
	got := make([]int64, calls)
	errs := make([]error, calls)
	var wg sync.WaitGroup
	first := func(i int) {
		got[i], errs[i] = p.run(ctx, script, []string{fmt.Sprintf("%s:{%d}:n", s.prefix, i)}, i+1).Int64()
	}
	wg.Go(func() { first(0) })
	<-g.held // the first pipeline is on the wire, with the first call alone
	var queued sync.WaitGroup
	for i := 1; i < calls; i++ {
		queued.Add(1)
		wg.Go(func() {
			queued.Done()
			first(i)
		})
	}
	queued.Wait()
	for { // every call in the queue before the first pipeline comes back
		p.mu.Lock()
		n := len(p.queue)
		p.mu.Unlock()
		if n == calls-1 {
			break
		}
	}
	close(g.release)
	wg.Wait()
	for i := range calls {
		if errs[i] != nil || got[i] != int64(i+1) {
			t.Fatalf("call %d = %d, %v; want %d", i, got[i], errs[i], i+1)
		}
	}
	if n := rt.Count(); n != 2 {
		t.Errorf("%d calls took %d round trips, want 2 (the first alone, the rest together)", calls, n)
	}
}

// A script the server does not have (never loaded, or flushed) runs all the same.
func TestAutoPipeLoadsMissingScript(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	// Its own text, so its own hash: no other test loaded it.
	script := redis.NewScript(`return ARGV[1] .. '` + s.prefix + `'`)
	got, err := s.pipe.run(ctx, script, []string{s.prefix + ":x"}, "ok ").Text()
	if err != nil || got != "ok "+s.prefix {
		t.Fatalf("run = %q, %v", got, err)
	}
}

// A caller whose context ends stops waiting; the others still get their answers.
func TestAutoPipeCancelled(t *testing.T) {
	s, _ := newStore(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	script := redis.NewScript(`return 1`)
	if err := s.pipe.run(ctx, script, []string{s.prefix + ":x"}).Err(); !errors.Is(err, context.Canceled) {
		t.Fatalf("run with a cancelled context = %v, want context.Canceled", err)
	}
	if n, err := s.pipe.run(context.Background(), script, []string{s.prefix + ":x"}).Int(); err != nil || n != 1 {
		t.Fatalf("run after = %d, %v", n, err)
	}
}
