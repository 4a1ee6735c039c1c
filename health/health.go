// Package health answers the gateway's liveness and readiness probes: GET /healthz
// (the process runs) and GET /readyz (it can reach its state), for load balancers,
// Docker and Kubernetes.
package health

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"time"
)

// Pinger is the state a gateway needs to be of use: bot/redisstore.Store.
type Pinger interface {
	Ping(ctx context.Context) error
}

// Mount adds GET /healthz and GET /readyz to mux.
func Mount(mux *http.ServeMux, state Pinger, log *slog.Logger) {
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = io.WriteString(w, "ok\n")
	})
	mux.Handle("GET /readyz", ready{state: state, log: log.With("component", "http")})
}

// ready answers 200 when Redis answers a PING within a second: a load balancer sends
// no traffic to a process that cannot reach its state.
type ready struct {
	state Pinger
	log   *slog.Logger
}

func (h ready) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), time.Second)
	defer cancel()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if err := h.state.Ping(ctx); err != nil {
		h.log.Warn("not ready: redis does not answer", "err", err)
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = io.WriteString(w, "redis unavailable\n")
		return
	}
	_, _ = io.WriteString(w, "ok\n")
}
