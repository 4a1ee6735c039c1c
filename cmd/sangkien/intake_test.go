package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sangkien/sangkien/bot"
	"github.com/sangkien/sangkien/bot/redisstore"
	"github.com/sangkien/sangkien/bot/redisstore/redistest"
	"github.com/sangkien/sangkien/integrations/intake"
	"github.com/sangkien/sangkien/integrations/intake/intaketest"
)

const intakeSecret = "test-intake-secret"

// stamped is a transport that remembers when each request left: the tests check waits
// from below, never from above.
type stamped struct {
	mu    sync.Mutex
	times []time.Time
}

func (s *stamped) RoundTrip(r *http.Request) (*http.Response, error) {
	s.mu.Lock()
	s.times = append(s.times, time.Now())
	s.mu.Unlock()
	return http.DefaultTransport.RoundTrip(r)
}

func (s *stamped) sent() []time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Time(nil), s.times...)
}

// intakeRig is an outbox on a real Redis, a signed-JSON client and a fake intake.
type intakeRig struct {
	store  *redisstore.Store
	fake   *intaketest.JSONServer
	client *intake.JSONClient
	clock  *stamped
	env    testEnv
}

func newIntakeRig(t *testing.T) *intakeRig {
	t.Helper()
	env := newTestEnv(t)
	r := &intakeRig{
		store: redisstore.New(redistest.Client(t), redisstore.Options{Prefix: env["REDIS_PREFIX"]}),
		fake:  intaketest.NewJSONServer(t, intakeSecret),
		clock: &stamped{},
		env:   env,
	}
	var err error
	r.client, err = intake.NewJSONClient(intake.JSONConfig{
		URL: r.fake.URL(), Secret: intakeSecret, HTTP: &http.Client{Transport: r.clock},
	})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// worker runs a worker on store until the test ends or stop is called.
func (r *intakeRig) worker(t *testing.T, store bot.Outboxes, name string) (stop func()) {
	t.Helper()
	w := bot.NewOutboxWorker(store, r.client, nil, name)
	w.Idle, w.Block = 400*time.Millisecond, 50*time.Millisecond
	w.Backoff, w.MaxBackoff = 20*time.Millisecond, 100*time.Millisecond
	w.DeliverTimeout = 300 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { _ = w.Run(ctx) })
	var once sync.Once
	stop = func() { once.Do(func() { cancel(); wg.Wait() }) }
	t.Cleanup(stop)
	return stop
}

// submit commits a submission as the engine does, which puts it in the outbox.
func (r *intakeRig) submit(t *testing.T, id string) bot.Submission {
	t.Helper()
	ctx := context.Background()
	conv := bot.ConversationRef{Channel: bot.Telegram, ID: "77" + fmt.Sprint(len(id))}
	lease, err := r.store.Begin(ctx, conv, "ev-"+id, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	sub := bot.Submission{
		ID: id, Reference: "SK-2026-" + id, Proposal: bot.Proposal{Kind: bot.KindInitiative, Title: "Đèn đường " + id},
		Conversation: conv, Lang: "vi", SubmittedAt: time.Now(),
	}
	if err := r.store.Commit(ctx, lease, bot.Change{Session: &bot.Session{Conversation: conv}, Submission: &sub}); err != nil {
		t.Fatal(err)
	}
	return sub
}

// eventually waits for cond; the bound only keeps a broken test from hanging.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("never happened: %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (r *intakeRig) kept(ids ...string) func() bool {
	return func() bool { return len(r.fake.Submissions()) >= len(ids) }
}

func TestOutboxDeliversToJSONIntake(t *testing.T) {
	tests := []struct {
		name   string
		script []intaketest.Answer
		// wantRequests is how many posts reach the fake, every one signed.
		wantRequests int
		// minGap is the least time between the first and the last post.
		minGap time.Duration
	}{
		{name: "success", wantRequests: 1},
		{name: "500 twice then success", wantRequests: 3,
			// The first 500 came after the intake kept it: the retries must not add one.
			script: []intaketest.Answer{{Status: 500, Keep: true}, {Status: 503}}},
		{name: "429 with Retry-After", wantRequests: 2, minGap: time.Second,
			script: []intaketest.Answer{{Status: 429, RetryAfter: "1"}}},
		{name: "timeout", wantRequests: 2,
			script: []intaketest.Answer{{Delay: 2 * time.Second, Keep: true}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newIntakeRig(t)
			r.fake.Script(tt.script...)
			sub := r.submit(t, "s1")
			r.worker(t, r.store, "w1")
			eventually(t, "the intake keeps the submission", r.kept(sub.ID))
			eventually(t, "the outbox empties", func() bool {
				p, err := r.store.PendingSubmissions(context.Background())
				return err == nil && len(p) == 0
			})

			if got := r.fake.Submissions(); len(got) != 1 || got[0].ID != sub.ID {
				t.Errorf("the intake kept %d submissions, want %s once", len(got), sub.ID)
			}
			reqs := r.fake.Requests()
			if len(reqs) != tt.wantRequests {
				t.Errorf("%d posts, want %d", len(reqs), tt.wantRequests)
			}
			for _, q := range reqs {
				if k := q.Header.Get("Idempotency-Key"); k != sub.ID {
					t.Errorf("Idempotency-Key %q, want %q", k, sub.ID)
				}
			}
			if n := r.fake.Refused(); n != 0 {
				t.Errorf("%d posts had a bad signature", n)
			}
			if times := r.clock.sent(); tt.minGap > 0 && times[len(times)-1].Sub(times[0]) < tt.minGap {
				t.Errorf("retried after %s, before the intake's Retry-After of %s", times[len(times)-1].Sub(times[0]), tt.minGap)
			}
		})
	}
}

// A 400 moves the submission to the failed list, whole; retried by an operator after the
// intake is fixed, it is delivered once.
func TestOutboxFailedListAndRetry(t *testing.T) {
	r := newIntakeRig(t)
	r.fake.Break(intaketest.Answer{Status: 400, Body: `{"error":"field \"title\" too long"}`})
	sub := r.submit(t, "bad1")
	ok := r.submit(t, "good22")
	r.worker(t, r.store, "w1")
	ctx := context.Background()

	var failed []bot.SubmissionFailure
	eventually(t, "the refused submissions reach the failed list", func() bool {
		var err error
		failed, err = r.store.FailedSubmissions(ctx)
		return err == nil && len(failed) == 2
	})
	for _, f := range failed {
		if f.Code != 400 || !strings.Contains(f.Body, "too long") || f.Attempts != 1 || f.At.IsZero() {
			t.Errorf("failure record %+v: want status 400, the body, one attempt and a time", f)
		}
	}
	if failed[0].Submission.Title == "" || failed[0].Submission.Conversation.ID == "" {
		t.Errorf("the failed record lost the submission: %+v", failed[0].Submission)
	}
	if p, _ := r.store.PendingSubmissions(ctx); len(p) != 0 {
		t.Errorf("%d submissions still pending after a permanent failure", len(p))
	}

	var out bytes.Buffer
	if err := run(ctx, []string{"intake", "failed"}, r.env.get, nil, &out, &out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{sub.ID, sub.Reference, ok.Reference, "400", "too long", "2 failed"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("intake failed does not show %q:\n%s", want, out.String())
		}
	}

	r.fake.Fix()
	out.Reset()
	if err := run(ctx, []string{"intake", "retry", sub.ID}, r.env.get, nil, &out, &out); err != nil {
		t.Fatal(err)
	}
	if err := run(ctx, []string{"intake", "retry", "--all"}, r.env.get, nil, &out, &out); err != nil {
		t.Fatal(err)
	}
	if err := run(ctx, []string{"intake", "retry", sub.ID}, r.env.get, nil, &out, &out); err == nil {
		t.Error("retrying a submission that is no longer on the failed list succeeded")
	}
	eventually(t, "both are delivered", r.kept(sub.ID, ok.ID))
	eventually(t, "the outbox empties", func() bool {
		p, err := r.store.PendingSubmissions(ctx)
		return err == nil && len(p) == 0
	})
	if n := len(r.fake.Submissions()); n != 2 {
		t.Errorf("the intake kept %d submissions, want 2", n)
	}
	if f, _ := r.store.FailedSubmissions(ctx); len(f) != 0 {
		t.Errorf("%d left on the failed list", len(f))
	}
	if n := len(r.fake.Requests()); n != 4 {
		t.Errorf("%d posts, want 4: one refused and one delivered each", n)
	}
}

// crashAfterPost stands for a worker killed between the POST and the acknowledgement.
type crashAfterPost struct {
	*redisstore.Store
	crashed chan struct{}
	once    sync.Once
}

func (c *crashAfterPost) Outbox(worker string, idle, block time.Duration) bot.Outbox {
	return crashingOutbox{Outbox: c.Store.Outbox(worker, idle, block), c: c}
}

// crashingOutbox is the dying worker's view of the outbox.
type crashingOutbox struct {
	bot.Outbox
	c *crashAfterPost
}

func (o crashingOutbox) Ack(context.Context, bot.OutboxItem) error {
	o.c.once.Do(func() { close(o.c.crashed) })
	return errors.New("killed")
}

func TestOutboxWorkerKilledBeforeAck(t *testing.T) {
	r := newIntakeRig(t)
	sub := r.submit(t, "k1")
	dying := &crashAfterPost{Store: r.store, crashed: make(chan struct{})}
	stop := r.worker(t, dying, "dies")
	<-dying.crashed
	stop()

	r.worker(t, r.store, "takes-over")
	eventually(t, "the outbox empties", func() bool {
		p, err := r.store.PendingSubmissions(context.Background())
		return err == nil && len(p) == 0
	})
	reqs := r.fake.Requests()
	if len(reqs) != 2 {
		t.Fatalf("%d posts, want 2 (one before the crash, one after)", len(reqs))
	}
	for _, q := range reqs {
		if k := q.Header.Get("Idempotency-Key"); k != sub.ID {
			t.Errorf("Idempotency-Key %q, want %q on every attempt", k, sub.ID)
		}
	}
	if n := len(r.fake.Submissions()); n != 1 {
		t.Errorf("the intake kept %d submissions, want 1", n)
	}
}

func TestIntakeCommand(t *testing.T) {
	r := newIntakeRig(t)
	r.fake.Break(intaketest.Answer{Status: 503})
	sub := r.submit(t, "p1")
	r.worker(t, r.store, "w1")
	ctx := context.Background()
	eventually(t, "a failed attempt is recorded", func() bool {
		p, err := r.store.PendingSubmissions(ctx)
		return err == nil && len(p) == 1 && p[0].Attempts.Count > 0
	})
	var out bytes.Buffer
	if err := run(ctx, []string{"intake", "pending"}, r.env.get, nil, &out, &out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"ATTEMPTS", sub.ID, sub.Reference, "initiative", "retryable (503)", "1 pending"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("intake pending does not show %q:\n%s", want, out.String())
		}
	}

	// An entry nobody can read is set aside by the worker and listed by intake dead.
	shard := redisstore.ShardOf(sub.Conversation)
	if err := redistest.Client(t).XAdd(ctx, &redis.XAddArgs{
		Stream: r.env["REDIS_PREFIX"] + ":{s" + fmt.Sprintf("%02d", shard) + "}:outbox", Values: []string{"s", "{torn"},
	}).Err(); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the unreadable entry is set aside", func() bool {
		d, err := r.store.DeadEntries(ctx)
		return err == nil && len(d) == 1
	})
	out.Reset()
	if err := run(ctx, []string{"intake", "dead"}, r.env.get, nil, &out, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "REASON") || !strings.Contains(out.String(), "1 dead") {
		t.Errorf("intake dead:\n%s", out.String())
	}

	bad := []struct {
		args []string
		want string
	}{
		{[]string{"intake"}, "pending, failed, retry or dead"},
		{[]string{"intake", "retry"}, "ids or --all"},
		{[]string{"intake", "retry", "--all", "x"}, "unexpected argument"},
		{[]string{"intake", "retry", "x", "--all"}, "ids or --all"},
		{[]string{"intake", "pending", "x"}, "no arguments"},
		{[]string{"intake", "sideways"}, "unknown command"},
	}
	for _, b := range bad {
		err := run(ctx, b.args, r.env.get, nil, &out, &out)
		if err == nil || !strings.Contains(err.Error(), b.want) {
			t.Errorf("%q: error %v, want one saying %q", b.args, err, b.want)
		}
	}
	err := run(ctx, []string{"intake", "pending"}, r.env.set("REDIS_URL", "").get, nil, &out, &out)
	if err == nil || !strings.Contains(err.Error(), "REDIS_URL") {
		t.Errorf("without REDIS_URL: %v, want an error naming it", err)
	}
	out.Reset()
	if err := run(ctx, []string{"intake", "--help"}, r.env.get, nil, &out, &out); err != nil || !strings.Contains(out.String(), "retry --all") {
		t.Errorf("intake --help: %v\n%s", err, out.String())
	}
}
