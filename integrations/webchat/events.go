package webchat

import (
	"fmt"
	"net/http"
	"strings"
	"time"
)

// keepAlive is how long an event stream stays silent before a comment line tells
// proxies and the browser it is alive.
const keepAlive = 20 * time.Second

// events streams the conversation's replies as server-sent events: each entry's
// stream id is the event's id, its data the reply as JSON. It starts after the
// Last-Event-ID the browser sends on reconnecting (or ?after=, for a page that opens
// a new EventSource), else from the first reply kept, so a dropped connection loses
// nothing and shows nothing twice. A stream ends after StreamFor, when the gateway
// stops, and when the token expires; the browser reconnects by itself.
func (s *Server) events(w http.ResponseWriter, r *http.Request) {
	c, ok := s.authorize(w, r)
	if !ok {
		return
	}
	after := r.Header.Get("Last-Event-ID")
	if after == "" {
		after = r.URL.Query().Get("after")
	}
	if after != "" && !entryID(after) {
		writeError(w, http.StatusBadRequest, "Last-Event-ID: not an event id of this stream")
		return
	}
	if !s.within(w, r, "sse", c.Conversation, StreamsPerMinute, time.Minute) {
		return
	}
	flusher, ok := w.(http.Flusher)
	if !ok {
		writeError(w, http.StatusInternalServerError, "streaming unsupported")
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/event-stream; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no") // nginx: do not hold the stream back
	w.WriteHeader(http.StatusOK)
	fmt.Fprint(w, "retry: 2000\n\n")
	flusher.Flush()

	end := time.NewTimer(min(s.cfg.StreamFor, time.Until(c.Expires)))
	defer end.Stop()
	tick := time.NewTicker(s.cfg.Poll)
	defer tick.Stop()
	quiet := time.Now()
	for {
		ids, entries, err := s.cfg.Replies.After(r.Context(), c.Conversation, after, 50)
		if err != nil {
			s.log.Warn("event stream", "err", err)
			return // the browser reconnects from the last id it got
		}
		for i, id := range ids {
			fmt.Fprintf(w, "id: %s\ndata: %s\n\n", id, entries[i])
			after = id
		}
		if len(ids) > 0 {
			flusher.Flush()
			quiet = time.Now()
			if len(ids) == 50 {
				continue
			}
		} else if time.Since(quiet) >= keepAlive {
			fmt.Fprint(w, ": keep-alive\n\n")
			flusher.Flush()
			quiet = time.Now()
		}
		select {
		case <-r.Context().Done():
			return
		case <-s.cfg.Done:
			return
		case <-end.C:
			return
		case <-tick.C:
		}
	}
}

// entryID is a Redis stream id: <ms>-<seq>.
func entryID(s string) bool {
	ms, seq, ok := strings.Cut(s, "-")
	return ok && len(s) <= 41 && digitsOnly(ms) && digitsOnly(seq)
}

func digitsOnly(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
