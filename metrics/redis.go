package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/sangkien/sangkien/bot/redisstore"
)

// CountRedis counts the round trips of c to Redis (a pipeline or a script counts one,
// see redisstore.RoundTrips): every part of the process, the engine's events, the
// senders and the scrapes alike. Divided by sangkien_events_total it bounds the round
// trips per event from above.
func (m *Metrics) CountRedis(c redis.UniversalClient) {
	rt := &redisstore.RoundTrips{}
	c.AddHook(rt)
	m.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "sangkien_redis_round_trips_total",
		Help: "Round trips to Redis from this process (a pipeline or a script counts one).",
	}, func() float64 { return float64(rt.Count()) }))
}
