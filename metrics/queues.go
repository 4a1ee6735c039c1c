package metrics

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sangkien/sangkien/bot"
	"github.com/sangkien/sangkien/bot/redisstore"
)

// QueueStore is what the queue collector reads on each scrape; *redisstore.Store
// implements it.
type QueueStore interface {
	QueueStats(ctx context.Context, channels []bot.Channel) ([]redisstore.QueueStat, error)
	Broadcasts(ctx context.Context, n int) ([]bot.Broadcast, error)
	BroadcastProgress(ctx context.Context, id string) (bot.BroadcastProgress, error)
}

var _ QueueStore = (*redisstore.Store)(nil)

// RecentBroadcasts is how many of the latest broadcasts a scrape reports on.
const RecentBroadcasts = 10

// scrapeTimeout bounds a scrape's reads from Redis.
const scrapeTimeout = 5 * time.Second

var (
	queueDepthDesc = prometheus.NewDesc("sangkien_delivery_queue_depth",
		"Replies and bulk messages waiting in the delivery queues, by channel and lane (replies, bulk).",
		[]string{"channel", "lane"}, nil)
	queueAgeDesc = prometheus.NewDesc("sangkien_delivery_queue_oldest_seconds",
		"Age of the oldest message waiting in a delivery queue, by channel and lane; 0 when empty.",
		[]string{"channel", "lane"}, nil)
	outboxDepthDesc = prometheus.NewDesc("sangkien_outbox_depth",
		"Submissions waiting in the outbox for the intake.", nil, nil)
	outboxAgeDesc = prometheus.NewDesc("sangkien_outbox_oldest_seconds",
		"Age of the oldest submission waiting in the outbox; 0 when empty.", nil, nil)
	recipientsDesc = prometheus.NewDesc("sangkien_broadcast_recipients",
		"Recipients of the latest broadcasts by broadcast and state (pending, sent, failed, skipped, cancelled).",
		[]string{"broadcast", "state"}, nil)
	storeUpDesc = prometheus.NewDesc("sangkien_queue_scrape_ok",
		"1 when the last scrape read the queues from Redis, 0 when it could not.", nil, nil)
)

// WatchQueues adds a collector that reads, on each scrape, the delivery queues of
// channels, the outbox and the latest broadcasts from st: one pipeline for the queues,
// two round trips for the broadcasts' list and one for each broadcast's progress.
func (m *Metrics) WatchQueues(st QueueStore, channels []bot.Channel) {
	m.reg.MustRegister(&queueCollector{m: m, st: st, channels: channels})
}

type queueCollector struct {
	m        *Metrics
	st       QueueStore
	channels []bot.Channel
}

func (c *queueCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{queueDepthDesc, queueAgeDesc, outboxDepthDesc, outboxAgeDesc, recipientsDesc, storeUpDesc} {
		ch <- d
	}
}

func (c *queueCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	ok := 1.0
	if err := c.collectQueues(ctx, ch); err != nil {
		c.m.log.Warn("metrics: reading the queues", "component", "metrics", "err", err)
		ok = 0
	}
	if err := c.collectBroadcasts(ctx, ch); err != nil {
		c.m.log.Warn("metrics: reading the broadcasts", "component", "metrics", "err", err)
		ok = 0
	}
	ch <- prometheus.MustNewConstMetric(storeUpDesc, prometheus.GaugeValue, ok)
}

func (c *queueCollector) collectQueues(ctx context.Context, ch chan<- prometheus.Metric) error {
	stats, err := c.st.QueueStats(ctx, c.channels)
	if err != nil {
		return err
	}
	for _, q := range stats {
		if q.Lane == redisstore.LaneOutbox {
			ch <- prometheus.MustNewConstMetric(outboxDepthDesc, prometheus.GaugeValue, float64(q.Depth))
			ch <- prometheus.MustNewConstMetric(outboxAgeDesc, prometheus.GaugeValue, q.Oldest.Seconds())
			continue
		}
		ch <- prometheus.MustNewConstMetric(queueDepthDesc, prometheus.GaugeValue, float64(q.Depth), string(q.Channel), q.Lane)
		ch <- prometheus.MustNewConstMetric(queueAgeDesc, prometheus.GaugeValue, q.Oldest.Seconds(), string(q.Channel), q.Lane)
	}
	return nil
}

func (c *queueCollector) collectBroadcasts(ctx context.Context, ch chan<- prometheus.Metric) error {
	bs, err := c.st.Broadcasts(ctx, RecentBroadcasts)
	if err != nil {
		return err
	}
	for _, b := range bs {
		if b.State == bot.BroadcastScheduled {
			continue // nobody queued yet
		}
		p, err := c.st.BroadcastProgress(ctx, b.ID)
		if err != nil {
			return err
		}
		for state, n := range map[string]int64{
			"pending": max(p.Queued-p.Done(), 0), "sent": p.Sent, "failed": p.Failed,
			"skipped": p.SkippedAll(), "cancelled": p.Cancelled,
		} {
			ch <- prometheus.MustNewConstMetric(recipientsDesc, prometheus.GaugeValue, float64(n), b.ID, state)
		}
	}
	return nil
}
