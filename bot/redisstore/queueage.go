package redisstore

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sangkien/sangkien/bot"
)

// OldestReply is how long the oldest reply has waited on the channels some process
// sends (a sender beat in <p>:members:out:<channel> lately), and on which: what the
// readiness probe bounds. The ages are QueueStats' (stream ids are times, by the
// server's clock); the bulk lane is left out, as its messages wait for the quiet hours
// on purpose, and so is a channel no process sends on, as the terminal's news that
// waits for its citizen to come back. Two round trips.
func (s *Store) OldestReply(ctx context.Context) (time.Duration, bot.Channel, error) {
	q := s.Delivery()
	all := bot.AudienceChannels()
	pipe := s.c.Pipeline()
	beats := make([]*redis.IntCmd, len(all))
	for i, ch := range all {
		beats[i] = pipe.Exists(ctx, q.membersKey(ch))
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return 0, "", fmt.Errorf("redisstore: live senders: %w", err)
	}
	var live []bot.Channel
	for i, ch := range all {
		if beats[i].Val() > 0 {
			live = append(live, ch)
		}
	}
	if len(live) == 0 {
		return 0, "", nil
	}
	stats, err := s.QueueStats(ctx, live)
	if err != nil {
		return 0, "", err
	}
	var oldest time.Duration
	var on bot.Channel
	for _, st := range stats {
		if st.Lane == LaneReplies && st.Oldest > oldest {
			oldest, on = st.Oldest, st.Channel
		}
	}
	return oldest, on, nil
}
