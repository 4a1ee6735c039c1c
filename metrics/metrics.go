// Package metrics is the gateway's Prometheus metrics: one registry, every name of the
// gateway's own prefixed sangkien_, with the Go runtime's and the process's. The bot
// package knows nothing of it: the metrics are taken around its parts, by wrappers
// (a channel's Sender, a webhook's handler, the engine as a channel's event handler
// and as the console's, reading what each event did from its Outcome) and by a
// collector that reads the queues from Redis when Prometheus scrapes.
package metrics

import (
	"log/slog"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Path is where the metrics are served.
const Path = "/metrics"

// Metrics holds the registry and the gateway's metrics. Build it with New; its
// wrappers may be used from any goroutine.
type Metrics struct {
	reg *prometheus.Registry
	log *slog.Logger

	webhookRequests  *prometheus.CounterVec   // channel, code
	unauthenticated  *prometheus.CounterVec   // endpoint, code
	events           *prometheus.CounterVec   // channel, kind
	eventErrors      *prometheus.CounterVec   // channel
	eventSeconds     *prometheus.HistogramVec // channel
	sends            *prometheus.CounterVec   // channel, lane, outcome
	rateLimitWait    *prometheus.CounterVec   // channel, lane
	intakeDeliveries *prometheus.CounterVec   // kind, outcome
	flowSteps        *prometheus.CounterVec   // flow, step, outcome
	staffReplies     *prometheus.CounterVec   // channel
	staffFirstAnswer *prometheus.HistogramVec // channel
	staffActions     *prometheus.CounterVec   // action
}

// New makes the registry, with the Go runtime and process collectors in it.
func New(log *slog.Logger) *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		log: log,
		webhookRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sangkien_webhook_requests_total",
			Help: "Webhook requests by channel and HTTP status code answered.",
		}, []string{"channel", "code"}),
		unauthenticated: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sangkien_unauthenticated_requests_total",
			Help: "Requests to a webhook or the intake callback that failed authentication, by endpoint and the code answered (401, or 429 once the address is over WEBHOOK_AUTH_LIMIT).",
		}, []string{"endpoint", "code"}),
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sangkien_events_total",
			Help: "Events a channel handed the engine, by channel and kind.",
		}, []string{"channel", "kind"}),
		eventErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sangkien_event_errors_total",
			Help: "Events the engine could not run (the channel hands them again), by channel.",
		}, []string{"channel"}),
		eventSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "sangkien_event_duration_seconds",
			Help:    "Engine time per event (lock, load, flow, commit), by channel.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 13), // 0.5 ms to 2 s
		}, []string{"channel"}),
		sends: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sangkien_sends_total",
			Help: "Sends to a channel's API by channel, lane (replies, bulk) and outcome " +
				"(sent, retried, rate_limited, held, failed, gone).",
		}, []string{"channel", "lane", "outcome"}),
		rateLimitWait: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sangkien_send_rate_limited_wait_seconds_total",
			Help: "Time a channel's API told the gateway to wait (429's retry_after), by channel and lane.",
		}, []string{"channel", "lane"}),
		intakeDeliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sangkien_intake_deliveries_total",
			Help: "Attempts to hand a submission to the city's intake, by kind (initiative, feedback) " +
				"and outcome (delivered, retried, refused).",
		}, []string{"kind", "outcome"}),
		flowSteps: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sangkien_flow_steps_total",
			Help: "What events did at the steps of the flows, by flow, step and outcome " +
				"(reached, answered, invalid, back, abandoned).",
		}, []string{"flow", "step", "outcome"}),
		staffReplies: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sangkien_staff_replies_total",
			Help: "Messages staff wrote to citizens (the console's replies, and the provider's own tool), by channel.",
		}, []string{"channel"}),
		staffFirstAnswer: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "sangkien_staff_first_answer_seconds",
			Help: "Time from a citizen's request for a person to staff's first answer, by channel.",
			// 30 s to a day: a desk answers within minutes, or the next working morning.
			Buckets: []float64{30, 60, 120, 300, 600, 1800, 3600, 2 * 3600, 4 * 3600, 8 * 3600, 16 * 3600, 24 * 3600},
		}, []string{"channel"}),
		staffActions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sangkien_staff_actions_total",
			Help: "Staff's actions in the console by action (takeover, reply, handback, resolve, note, assign).",
		}, []string{"action"}),
	}
	m.reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.webhookRequests, m.unauthenticated, m.events, m.eventErrors, m.eventSeconds, m.sends, m.rateLimitWait, m.intakeDeliveries,
		m.flowSteps, m.staffReplies, m.staffFirstAnswer, m.staffActions,
	)
	return m
}

// Registry is the registry the metrics are in, for a part that adds its own.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the registry in Prometheus's text format. A collector that cannot
// read its part (Redis down) leaves that part out and logs why; the rest is served.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
		ErrorLog:      slog.NewLogLogger(m.log.With("component", "metrics").Handler(), slog.LevelWarn),
		ErrorHandling: promhttp.ContinueOnError,
	})
}
