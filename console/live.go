package console

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"
)

// Changes tells of conversations that changed, by key: redisstore.Store.DeskChanges.
type Changes interface {
	DeskChanges(ctx context.Context) <-chan string
}

const (
	// heartbeat keeps an idle event stream open through proxies that close silent
	// connections.
	heartbeat = 25 * time.Second
	// streamLife ends every event stream after a while; the page's EventSource opens
	// a new one, through the session check: a stream outlives neither a logout nor a
	// disabled account by more than this.
	streamLife = 5 * time.Minute
	// StreamsPerMember bounds the event streams one member of staff has open at once
	// (tabs, windows) in one process.
	StreamsPerMember = 8
)

// events streams server-sent events to a page: "change" with a conversation's key
// whenever its desk, card or transcript changed. The page's script fetches what it
// shows again, so an event carries no personal data, and one missed (the stream was
// reconnecting) costs nothing but a late refresh.
func (s *Server) events(w http.ResponseWriter, r *http.Request, c caller) {
	flusher, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "streaming is not supported here", http.StatusInternalServerError)
		return
	}
	changes, leave, ok := s.live.join(c.member.Email)
	if !ok {
		w.Header().Set("Retry-After", "60")
		http.Error(w, "too many open console pages", http.StatusTooManyRequests)
		return
	}
	defer leave()
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	fmt.Fprint(w, "retry: 3000\n\n")
	flusher.Flush()
	tick := time.NewTicker(heartbeat)
	defer tick.Stop()
	end := time.NewTimer(streamLife)
	defer end.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-s.done: // the gateway stops: end the stream so that shutdown need not wait
			return
		case <-end.C:
			return
		case key := <-changes:
			fmt.Fprintf(w, "event: change\ndata: %s\n\n", key)
		case <-tick.C:
			fmt.Fprint(w, ": still here\n\n")
		}
		flusher.Flush()
	}
}

// hub is a process's one subscription to the changes, shared by every open stream:
// a Redis connection per process, not per page.
type hub struct {
	changes Changes
	done    <-chan struct{}
	mu      sync.Mutex
	subs    map[chan string]string // stream → member's email
	per     map[string]int         // open streams by email
	running bool
	ready   chan struct{} // closed once the first subscription was answered
}

func newHub(c Changes, done <-chan struct{}) *hub {
	return &hub{changes: c, done: done, subs: map[chan string]string{}, per: map[string]int{}, ready: make(chan struct{})}
}

// join opens a stream for email; ok is false when email has StreamsPerMember open.
// leave closes it. The first join waits (a few seconds at most) for the subscription,
// so that a change made once the page's stream is open is told.
func (h *hub) join(email string) (_ <-chan string, leave func(), ok bool) {
	defer func() {
		select {
		case <-h.ready:
		case <-h.done:
		case <-time.After(5 * time.Second):
		}
	}()
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.per[email] >= StreamsPerMember {
		return nil, nil, false
	}
	ch := make(chan string, 16)
	h.subs[ch] = email
	h.per[email]++
	if !h.running {
		h.running = true
		go h.run()
	}
	return ch, func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		delete(h.subs, ch)
		if h.per[email]--; h.per[email] == 0 {
			delete(h.per, email)
		}
	}, true
}

// run subscribes until the console closes, again after a lost subscription (Redis
// restarted), waiting a little longer after each loss in a row.
func (h *hub) run() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-h.done
		cancel()
	}()
	wait := time.Second
	var once sync.Once
	for ctx.Err() == nil {
		began := time.Now()
		changes := h.changes.DeskChanges(ctx)
		once.Do(func() { close(h.ready) })
		for key := range changes {
			h.tell(key)
		}
		if time.Since(began) > time.Minute {
			wait = time.Second
		}
		select {
		case <-ctx.Done():
		case <-time.After(wait):
		}
		wait = min(2*wait, 30*time.Second)
	}
}

// tell hands key to every stream; a stream that is behind misses it (its page looks
// again at its next hint or reconnection) rather than holding the others up.
func (h *hub) tell(key string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for ch := range h.subs {
		select {
		case ch <- key:
		default:
		}
	}
}

// Close ends the live event streams, so that the HTTP server's shutdown does not wait
// for them. Call it once, before shutting the server down.
func (s *Server) Close() { close(s.done) }
