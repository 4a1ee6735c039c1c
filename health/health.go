// Package health answers the gateway's liveness and readiness probes: GET /healthz
// (the process runs) and GET /readyz (it can reach its state and its replies are not
// stuck), for load balancers, Docker and Kubernetes; and `sangkien healthcheck`, the
// probe as a command for an image without a shell (check.go).
package health

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/sangkien/sangkien/bot"
	"github.com/sangkien/sangkien/envvar"
)

// EnvVars are the variables Settings are read from.
var EnvVars = []envvar.Var{
	{Name: "READY_MAX_QUEUE_AGE", Default: "60s", Help: "GET /readyz answers 503 while the oldest reply waiting on a " +
		"channel some process sends on has waited longer (a channel down, or its limit far behind the load)"},
}

// Settings bound readiness.
type Settings struct {
	// MaxQueueAge is how long the oldest queued reply may wait (READY_MAX_QUEUE_AGE).
	MaxQueueAge time.Duration
}

// ReadSettings reads READY_MAX_QUEUE_AGE; a value it cannot use is recorded in r.
func ReadSettings(r *envvar.Reader) Settings {
	v := r.Get("READY_MAX_QUEUE_AGE")
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		r.Fail(fmt.Errorf("READY_MAX_QUEUE_AGE=%q: want a positive duration, e.g. 60s", v))
	}
	return Settings{MaxQueueAge: d}
}

// State is what a gateway needs to be of use: bot/redisstore.Store.
type State interface {
	Ping(ctx context.Context) error
	// OldestReply is how long the oldest queued reply has waited, and on which channel.
	OldestReply(ctx context.Context) (time.Duration, bot.Channel, error)
}

// Mount adds GET /healthz and GET /readyz to mux.
func Mount(mux *http.ServeMux, state State, s Settings, log *slog.Logger) {
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = io.WriteString(w, "ok\n")
	})
	mux.Handle("GET /readyz", ready{state: state, max: s.MaxQueueAge, log: log.With("component", "http")})
}

// ready answers 200 when Redis answers within a second and no reply has waited longer
// than max: a load balancer sends no traffic to a process that cannot reach its state,
// and an orchestrator sees a gateway whose citizens wait for their answers. The queues
// are shared, so every process sending on that channel turns unready together.
type ready struct {
	state State
	max   time.Duration
	log   *slog.Logger
}

func (h ready) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), time.Second)
	defer cancel()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	err := h.state.Ping(ctx)
	var age time.Duration
	var ch bot.Channel
	if err == nil {
		age, ch, err = h.state.OldestReply(ctx)
	}
	switch {
	case err != nil:
		h.log.Warn("not ready: redis does not answer", "err", err)
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = io.WriteString(w, "redis unavailable\n")
	case h.max > 0 && age > h.max:
		age = age.Round(time.Second)
		h.log.Warn("not ready: a reply has waited too long", "channel", string(ch), "waited", age, "max", h.max)
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = fmt.Fprintf(w, "replies waiting too long: %s for %s (READY_MAX_QUEUE_AGE=%s)\n", ch, age, h.max)
	default:
		_, _ = io.WriteString(w, "ok\n")
	}
}
