package console

import (
	"context"
	"fmt"
	"net/http"
	"time"
)

// Changes tells of conversations that changed, by key: redisstore.Store.DeskChanges.
type Changes interface {
	DeskChanges(ctx context.Context) <-chan string
}

// heartbeat keeps an idle event stream open through proxies that close silent
// connections.
const heartbeat = 25 * time.Second

// events streams server-sent events to a page: "change" with a conversation's key
// whenever its desk, card or transcript changed. The page's script fetches what it
// shows again, so an event carries no personal data, and one missed (the stream was
// reconnecting) costs nothing but a late refresh.
func (s *Server) events(w http.ResponseWriter, r *http.Request, _ caller) {
	flusher, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "streaming is not supported here", http.StatusInternalServerError)
		return
	}
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	go func() {
		select {
		case <-s.done: // the gateway stops: end the stream so that shutdown need not wait
			cancel()
		case <-ctx.Done():
		}
	}()
	changes := s.cfg.Changes.DeskChanges(ctx)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	fmt.Fprint(w, "retry: 3000\n\n")
	flusher.Flush()
	tick := time.NewTicker(heartbeat)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case key, ok := <-changes:
			if !ok {
				return
			}
			fmt.Fprintf(w, "event: change\ndata: %s\n\n", key)
		case <-tick.C:
			fmt.Fprint(w, ": still here\n\n")
		}
		flusher.Flush()
	}
}

// Close ends the live event streams, so that the HTTP server's shutdown does not wait
// for them. Call it once, before shutting the server down.
func (s *Server) Close() { close(s.done) }
