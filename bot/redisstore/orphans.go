package redisstore

import (
	"context"
	"slices"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sangkien/sangkien/bot"
)

// An orphan is a reply Redis has pending for this process that the process never
// got: XREADGROUP ran, moved the entry to the process's pending list and answered,
// but the answer was lost on the way (Redis stopped or the connection broke right
// then, and go-redis's retry of the read found nothing new). Nothing else reads it
// again while this process holds the shard's lease (a new holder reclaims what its
// predecessors left, a live holder reads only new entries), so without this the
// reply would never be sent. Claim looks for orphans every Orphans: entries pending
// for this process, idle at least that long, and not among those it handed out and
// has not finished (those are being sent, however long they wait their turn).

// orphansDue reports whether Claim should look for orphans now.
func (s *sender) orphansDue() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if now := time.Now(); now.Sub(s.orphansAt) >= s.opt.Orphans {
		s.orphansAt = now
		return true
	}
	return false
}

// orphans reads again, up to n in all, the orphans of shards and hands them out as
// claimed. A shard whose look fails is looked at next time. A shard still catching up
// on what earlier leases left unfinished is left out: that catching up (reclaim) hands
// out the same entries, which would then go twice.
func (s *sender) orphans(ctx context.Context, shards []int, n int) []bot.Delivery {
	q := s.q
	shards = slices.DeleteFunc(slices.Clone(shards), func(sh int) bool { return !q.caughtUp(s.ch, sh, s.name) })
	if len(shards) == 0 || n <= 0 {
		return nil
	}
	pipe := q.s.c.Pipeline()
	cmds := make([]*redis.XPendingExtCmd, len(shards))
	for i, sh := range shards {
		cmds[i] = pipe.XPendingExt(ctx, &redis.XPendingExtArgs{
			Stream: q.stream(sh, s.ch), Group: DeliveryGroup, Idle: s.opt.Orphans,
			Start: "-", End: "+", Count: int64(max(n, 1)), Consumer: s.name,
		})
	}
	_, _ = pipe.Exec(ctx) // each command's own error is looked at below
	var out []bot.Delivery
	for i, sh := range shards {
		pending, err := cmds[i].Result()
		if err != nil || len(pending) == 0 || len(out) >= n {
			continue
		}
		ids := s.unknown(sh, pending)
		ids = ids[:min(len(ids), n-len(out))]
		token, held := q.fence(s.ch, sh, s.name)
		if len(ids) == 0 || !held {
			continue
		}
		msgs, err := q.s.c.XClaim(ctx, &redis.XClaimArgs{
			Stream: q.stream(sh, s.ch), Group: DeliveryGroup, Consumer: s.name,
			MinIdle: s.opt.Orphans, Messages: ids,
		}).Result()
		if err != nil {
			s.log.Warn("reading orphaned replies again failed; trying later", "shard", sh, "err", err)
			continue
		}
		got := s.claimed(sh, q.decode(ctx, s.ch, sh, msgs, Lease{Token: token}))
		if len(got) > 0 {
			s.log.Warn("replies read from Redis without the answer arriving are sent now", "shard", sh, "count", len(got))
		}
		out = append(out, got...)
	}
	return out
}

// unknown are the ids of pending that the process did not hand out under its lease
// on shard, or has finished.
func (s *sender) unknown(shard int, pending []redis.XPendingExt) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	h := s.shards[shard]
	if h == nil || h.draining || isClosed(h.lost) {
		return nil
	}
	var ids []string
	for _, p := range pending {
		if !h.claimed[deliveryEntry(shard, p.ID)] {
			ids = append(ids, p.ID)
		}
	}
	return ids
}

// caughtUp reports whether consumer holds ch's shard and has read what earlier leases
// left unfinished there.
func (q *Delivery) caughtUp(ch bot.Channel, shard int, consumer string) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	h := q.held[shardOf{ch, shard, consumer}]
	return h != nil && !h.reclaiming
}
