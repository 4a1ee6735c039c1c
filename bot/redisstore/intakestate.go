package redisstore

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"

	json "github.com/go-json-experiment/json/v1"
	"github.com/redis/go-redis/v9"

	"github.com/sangkien/sangkien/bot"
)

// This file is the outbox worker's ledger (behind bot.Outbox: attempts, the failed
// list, the index) and what operators see of it: per-submission retry schedules and the failed list live in the outbox's shard,
// so that moving a submission between them and the outbox is one transaction even on a
// cluster; the index callbacks use is global.

// ErrUnknownSubmission is returned for an id or reference the index does not hold.
var ErrUnknownSubmission = bot.ErrUnknownSubmission

// IndexedSubmission is what the index keeps of a submission: enough to find the
// citizen when the intake calls back.
type IndexedSubmission = bot.IndexedSubmission

// Index records id → conversation and reference, and reference → id. Behind bot.Outbox (outboxClaims).
func (s *Store) Index(ctx context.Context, sub bot.Submission) error {
	if sub.ID == "" {
		return errors.New("redisstore: index: submission without id")
	}
	b, err := json.Marshal(IndexedSubmission{
		ID: sub.ID, Reference: sub.Reference, Kind: sub.Kind, Conversation: sub.Conversation,
	})
	if err != nil {
		return fmt.Errorf("redisstore: index: %w", err)
	}
	// Two keys in different slots: two independent writes, each idempotent.
	pipe := s.c.Pipeline()
	pipe.Set(ctx, s.subIndexKey(sub.ID), b, 0)
	if sub.Reference != "" {
		pipe.Set(ctx, s.refIndexKey(sub.Reference), sub.ID, 0)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("redisstore: index: %w", err)
	}
	return nil
}

// LookupSubmission finds an indexed submission by id.
func (s *Store) LookupSubmission(ctx context.Context, id string) (IndexedSubmission, error) {
	raw, err := s.c.Get(ctx, s.subIndexKey(id)).Bytes()
	if errors.Is(err, redis.Nil) {
		return IndexedSubmission{}, ErrUnknownSubmission
	}
	if err != nil {
		return IndexedSubmission{}, fmt.Errorf("redisstore: lookup submission: %w", err)
	}
	var is IndexedSubmission
	if err := json.Unmarshal(raw, &is); err != nil {
		return IndexedSubmission{}, fmt.Errorf("redisstore: lookup submission %s: %w", id, err)
	}
	return is, nil
}

// LookupReference finds an indexed submission by its reference ("SK-2026-000123").
func (s *Store) LookupReference(ctx context.Context, ref string) (IndexedSubmission, error) {
	id, err := s.c.Get(ctx, s.refIndexKey(ref)).Result()
	if errors.Is(err, redis.Nil) {
		return IndexedSubmission{}, ErrUnknownSubmission
	}
	if err != nil {
		return IndexedSubmission{}, fmt.Errorf("redisstore: lookup reference: %w", err)
	}
	return s.LookupSubmission(ctx, id)
}

// Attempts reads each item's retry schedule in one round trip. Behind bot.Outbox (outboxClaims).
func (s *Store) Attempts(ctx context.Context, items []bot.OutboxItem) ([]bot.DeliveryAttempts, error) {
	out := make([]bot.DeliveryAttempts, len(items))
	if len(items) == 0 {
		return out, nil
	}
	pipe := s.c.Pipeline()
	cmds := make([]*redis.StringCmd, len(items))
	for i, it := range items {
		shard, _, err := parseEntry(it.Entry)
		if err != nil {
			return nil, fmt.Errorf("redisstore: attempts: %w", err)
		}
		cmds[i] = pipe.HGet(ctx, s.retryKey(shard), it.Submission.ID)
	}
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("redisstore: attempts: %w", err)
	}
	for i, c := range cmds {
		raw, err := c.Bytes()
		if errors.Is(err, redis.Nil) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("redisstore: attempts: %w", err)
		}
		if err := json.Unmarshal(raw, &out[i]); err != nil {
			// A schedule that cannot be read must not stop the submission: try it now.
			s.log.Error("retry schedule unreadable", "submission", items[i].Submission.ID, "err", err)
			out[i] = bot.DeliveryAttempts{}
		}
	}
	return out, nil
}

// Postpone and Fail, fenced by the outbox's leases, are in outbox.go.

// PendingSubmission is a submission in the outbox, with what is known of its attempts.
type PendingSubmission = bot.PendingSubmission

// PendingSubmissions lists every submission in the outbox, the oldest first: new ones
// and ones being retried.
func (s *Store) PendingSubmissions(ctx context.Context) ([]PendingSubmission, error) {
	pipe := s.c.Pipeline()
	ranges := make([]*redis.XMessageSliceCmd, Shards)
	retries := make([]*redis.MapStringStringCmd, Shards)
	for sh := range Shards {
		ranges[sh] = pipe.XRange(ctx, s.outboxStream(sh), "-", "+")
		retries[sh] = pipe.HGetAll(ctx, s.retryKey(sh))
	}
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("redisstore: pending submissions: %w", err)
	}
	var out []PendingSubmission
	for sh := range Shards {
		sched := retries[sh].Val()
		for _, m := range ranges[sh].Val() {
			it, err := s.item(sh, m, 0)
			if err != nil {
				continue // the next Claim moves it to the dead letters
			}
			p := PendingSubmission{Entry: it.Entry, Submission: it.Submission}
			if raw, ok := sched[it.Submission.ID]; ok {
				_ = json.Unmarshal([]byte(raw), &p.Attempts) // unreadable: shown as never tried
			}
			out = append(out, p)
		}
	}
	slices.SortFunc(out, func(a, b PendingSubmission) int {
		return cmp.Or(a.Submission.SubmittedAt.Compare(b.Submission.SubmittedAt), cmp.Compare(a.Submission.ID, b.Submission.ID))
	})
	return out, nil
}

// FailedSubmissions lists the failed list, the most recent failure first.
func (s *Store) FailedSubmissions(ctx context.Context) ([]bot.SubmissionFailure, error) {
	out, err := shardRecords[bot.SubmissionFailure](ctx, s, s.failedKey)
	if err != nil {
		return nil, fmt.Errorf("redisstore: failed submissions: %w", err)
	}
	slices.SortFunc(out, func(a, b bot.SubmissionFailure) int {
		return cmp.Or(b.At.Compare(a.At), cmp.Compare(a.Submission.ID, b.Submission.ID))
	})
	return out, nil
}

// retryFailedScript moves a failed record back to the outbox if it is still the one the
// caller read: two operators retrying at once queue the submission once.
//
// KEYS: failed, retry, outbox. ARGV: id, record as read, submission JSON.
var retryFailedScript = redis.NewScript(`
if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then
  return 0
end
redis.call('XADD', KEYS[3], '*', 's', ARGV[3], 'id', ARGV[1])
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
return 1
`)

// RetryFailed moves the failed submission id back to the outbox, with a fresh schedule:
// the next worker round delivers it. It returns ErrUnknownSubmission when id is not on
// the failed list.
func (s *Store) RetryFailed(ctx context.Context, id string) error {
	pipe := s.c.Pipeline()
	cmds := make([]*redis.StringCmd, Shards)
	for sh := range Shards {
		cmds[sh] = pipe.HGet(ctx, s.failedKey(sh), id)
	}
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return fmt.Errorf("redisstore: retry %s: %w", id, err)
	}
	for sh, c := range cmds {
		raw, err := c.Result()
		if errors.Is(err, redis.Nil) {
			continue
		}
		if err != nil {
			return fmt.Errorf("redisstore: retry %s: %w", id, err)
		}
		var f bot.SubmissionFailure
		if err := json.Unmarshal([]byte(raw), &f); err != nil {
			return fmt.Errorf("redisstore: retry %s: %w", id, err)
		}
		sub, err := json.Marshal(f.Submission)
		if err != nil {
			return fmt.Errorf("redisstore: retry %s: %w", id, err)
		}
		if err := s.ensureGroups(ctx); err != nil {
			return fmt.Errorf("redisstore: retry %s: %w", id, err)
		}
		keys := []string{s.failedKey(sh), s.retryKey(sh), s.outboxStream(sh)}
		n, err := retryFailedScript.Run(ctx, s.c, keys, id, raw, string(sub)).Int()
		if err != nil {
			return fmt.Errorf("redisstore: retry %s: %w", id, err)
		}
		if n == 0 {
			return fmt.Errorf("redisstore: retry %s: %w (moved by someone else)", id, ErrUnknownSubmission)
		}
		return nil
	}
	return fmt.Errorf("redisstore: retry %s: %w", id, ErrUnknownSubmission)
}

// RetryAllFailed moves every failed submission back to the outbox and returns their ids.
func (s *Store) RetryAllFailed(ctx context.Context) ([]string, error) {
	failed, err := s.FailedSubmissions(ctx)
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, f := range failed {
		err := s.RetryFailed(ctx, f.Submission.ID)
		if errors.Is(err, ErrUnknownSubmission) {
			continue // retried by someone else meanwhile
		}
		if err != nil {
			return ids, err
		}
		ids = append(ids, f.Submission.ID)
	}
	return ids, nil
}

func (s *Store) retryKey(shard int) string {
	return s.prefix + ":" + tag(shard) + ":intake:retry"
}

func (s *Store) failedKey(shard int) string {
	return s.prefix + ":" + tag(shard) + ":intake:failed"
}

func (s *Store) subIndexKey(id string) string { return s.prefix + ":intake:sub:" + id }

func (s *Store) refIndexKey(ref string) string { return s.prefix + ":intake:ref:" + ref }

// shardRecords reads every shard's hash named by key, in one pipeline, and decodes each
// value as a JSON T.
func shardRecords[T any](ctx context.Context, s *Store, key func(shard int) string) ([]T, error) {
	pipe := s.c.Pipeline()
	cmds := make([]*redis.MapStringStringCmd, Shards)
	for sh := range Shards {
		cmds[sh] = pipe.HGetAll(ctx, key(sh))
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, err
	}
	var out []T
	for sh, c := range cmds {
		for field, raw := range c.Val() {
			var v T
			if err := json.Unmarshal([]byte(raw), &v); err != nil {
				return nil, fmt.Errorf("%s field %s: %w", key(sh), field, err)
			}
			out = append(out, v)
		}
	}
	return out, nil
}
