package webchat

import (
	"net/http"
	"net/url"
)

// cors lets the API be called from the gateway's own pages and from the sites of
// WEBCHAT_ORIGINS, exactly those. A request from any other origin gets no CORS header
// and a 403, so that neither its browser nor a script that forges Origin gets an
// answer. Requests without Origin (curl, the gateway's own same-origin GETs) pass: the
// token, not the origin, is what protects a conversation.
//
// No credentials are allowed: the API uses bearer tokens, never cookies.
func (s *Server) cors(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		w.Header().Add("Vary", "Origin")
		if origin == "" {
			h.ServeHTTP(w, r)
			return
		}
		if !s.originAllowed(origin, r) {
			writeError(w, http.StatusForbidden, "origin not allowed")
			return
		}
		hd := w.Header()
		hd.Set("Access-Control-Allow-Origin", origin)
		if r.Method == http.MethodOptions {
			hd.Set("Access-Control-Allow-Methods", "GET, POST")
			hd.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, Last-Event-ID")
			hd.Set("Access-Control-Max-Age", "600")
		}
		h.ServeHTTP(w, r)
	})
}

// originAllowed: the gateway's own origin (the host the request was sent to) or one
// of the list.
func (s *Server) originAllowed(origin string, r *http.Request) bool {
	if s.origins[origin] {
		return true
	}
	u, err := url.Parse(origin)
	return err == nil && u.Host != "" && u.Host == r.Host && (u.Scheme == "http" || u.Scheme == "https")
}
