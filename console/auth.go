package console

import (
	"crypto/subtle"
	"errors"
	"mime"
	"net/http"
	"strings"

	json "github.com/go-json-experiment/json/v1"

	"github.com/sangkien/sangkien/bot"
	"github.com/sangkien/sangkien/clientaddr"
)

// SessionCookie holds a console session's id. It is HttpOnly, SameSite=Lax, scoped to
// the console, and Secure when the console is served over https.
const SessionCookie = "sk_console"

// CSRFHeader carries the session's CSRF token on the API's state-changing requests
// made with the session cookie; forms send it as the field "csrf".
const CSRFHeader = "X-CSRF-Token"

// caller is who makes a request: a member of staff, with their session when they
// came with the cookie (nil with a token).
type caller struct {
	member  bot.StaffMember
	session *bot.StaffSession
}

// authenticate finds the caller of r: a bearer token, or else the session cookie. ok
// is false when neither names a live account; err is a store failure.
func (s *Server) authenticate(r *http.Request) (caller, bool, error) {
	ctx := r.Context()
	// Only a bearer token is token auth: a proxy in front of the console may send its
	// own Basic credentials, and the cookie then still applies.
	if scheme, token, _ := strings.Cut(r.Header.Get("Authorization"), " "); strings.EqualFold(scheme, "Bearer") {
		m, err := s.cfg.Sessions.ByToken(ctx, strings.TrimSpace(token))
		if errors.Is(err, bot.ErrBadCredentials) {
			return caller{}, false, nil
		}
		return caller{member: m}, err == nil, err
	}
	c, err := r.Cookie(SessionCookie)
	if err != nil || c.Value == "" {
		return caller{}, false, nil
	}
	sess, m, err := s.cfg.Sessions.Session(ctx, c.Value)
	if errors.Is(err, bot.ErrNoSession) {
		return caller{}, false, nil
	}
	if err != nil {
		return caller{}, false, err
	}
	return caller{member: m, session: &sess}, true, nil
}

// csrfOK checks a state-changing request made with a session: its token, from the
// header or the form, must be the session's. A token's caller needs none (no browser
// sends a bearer token by itself).
func csrfOK(r *http.Request, c caller) bool {
	if c.session == nil || r.Method == http.MethodGet || r.Method == http.MethodHead {
		return true
	}
	got := r.Header.Get(CSRFHeader)
	if got == "" {
		got = r.PostFormValue("csrf")
	}
	return got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(c.session.CSRF)) == 1
}

// allowed reports whether a member of role may use a route for need.
func allowed(role, need bot.Role) bool {
	return need != bot.RoleAdmin || role == bot.RoleAdmin
}

// apiAuth wraps an API handler: the body limited first (limitBody), then 401 without
// a caller, 403 for a missing CSRF token or a role too low.
func (s *Server) apiAuth(need bot.Role, h func(http.ResponseWriter, *http.Request, bot.StaffMember)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if status := limitBody(w, r, maxBody); status != 0 {
			writeError(w, status, bodyRefusal[status])
			return
		}
		c, ok, err := s.authenticate(r)
		switch {
		case err != nil:
			s.log.Error("authenticate", "err", err)
			writeError(w, http.StatusServiceUnavailable, "the console cannot reach its store; try again")
		case !ok:
			w.Header().Set("WWW-Authenticate", `Bearer realm="console"`)
			writeError(w, http.StatusUnauthorized, "log in, or send Authorization: Bearer <staff token>")
		case !csrfOK(r, c):
			writeError(w, http.StatusForbidden, "missing or wrong CSRF token ("+CSRFHeader+")")
		case !allowed(c.member.Role, need):
			writeError(w, http.StatusForbidden, "this needs an admin")
		default:
			h(w, r, c.member)
		}
	})
}

// login checks a form's email and password and opens a new session: a new id at every
// login, the one the browser had (if any) closed.
func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	if status := limitBody(w, r, maxLoginBody); status != 0 {
		s.errorPage(w, r, caller{}, status, bodyRefusalMsg[status])
		return
	}
	email, password := r.PostFormValue("email"), r.PostFormValue("password")
	m, err := s.cfg.Accounts.Authenticate(r.Context(), email, password, clientaddr.Key(s.cfg.Proxies.Addr(r)))
	if err == nil {
		s.openSession(w, r, m, email)
		return
	}
	var refusal *LoginRefusal
	if errors.As(err, &refusal) && refusal.Audit {
		detail := ""
		if errors.Is(err, bot.ErrTooManyAttempts) {
			detail = "limit reached"
		}
		s.audit(r, refusal.Who(), bot.AuditLoginFailed, bot.AuditEntry{Detail: detail})
	}
	switch {
	case errors.Is(err, bot.ErrBadCredentials):
		s.log.Info("login refused", "addr", s.clientAddr(r))
		s.renderLogin(w, r, http.StatusUnauthorized, "console.login.wrong", email)
	case errors.Is(err, bot.ErrTooManyAttempts):
		if refusal != nil && refusal.Audit {
			s.log.Warn("login limit reached", "addr", s.clientAddr(r))
		}
		w.Header().Set("Retry-After", "900")
		s.renderLogin(w, r, http.StatusTooManyRequests, "console.login.limit", email)
	default:
		s.log.Error("login", "err", err)
		s.renderLogin(w, r, http.StatusServiceUnavailable, "console.unavailable", email)
	}
}

// openSession ends the browser's previous session (if any) and opens one for m. An
// account disabled or given a new password since its credentials were read gets the
// answer of a wrong password: the password it checked no longer holds.
func (s *Server) openSession(w http.ResponseWriter, r *http.Request, m bot.StaffMember, email string) {
	if old, err := r.Cookie(SessionCookie); err == nil && old.Value != "" {
		if err := s.cfg.Sessions.DeleteSession(r.Context(), old.Value); err != nil {
			s.log.Warn("closing the previous session", "err", err)
		}
	}
	sess, err := s.cfg.Sessions.NewSession(r.Context(), m)
	switch {
	case errors.Is(err, bot.ErrBadCredentials) || errors.Is(err, bot.ErrUnknownStaff):
		s.log.Info("login refused: the account changed during the login", "staff", bot.MaskID(m.Email))
		s.audit(r, m.Email, bot.AuditLoginFailed, bot.AuditEntry{Detail: "account changed during the login"})
		s.renderLogin(w, r, http.StatusUnauthorized, "console.login.wrong", email)
		return
	case err != nil:
		s.log.Error("new session", "err", err)
		s.renderLogin(w, r, http.StatusServiceUnavailable, "console.unavailable", email)
		return
	}
	http.SetCookie(w, s.cookie(sess.ID, 0))
	s.log.Info("login", "staff", bot.MaskID(m.Email))
	s.audit(r, m.Email, bot.AuditLogin, bot.AuditEntry{})
	http.Redirect(w, r, Prefix, http.StatusSeeOther)
}

// logout closes the session (a form with its CSRF token).
func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	if status := limitBody(w, r, maxLoginBody); status != 0 {
		s.errorPage(w, r, caller{}, status, bodyRefusalMsg[status])
		return
	}
	c, ok, err := s.authenticate(r)
	if err == nil && ok && c.session != nil {
		if !csrfOK(r, c) {
			http.Error(w, "missing or wrong CSRF token", http.StatusForbidden)
			return
		}
		if err := s.cfg.Sessions.DeleteSession(r.Context(), c.session.ID); err != nil {
			s.log.Warn("logout", "err", err)
		}
	}
	http.SetCookie(w, s.cookie("", -1))
	http.Redirect(w, r, Prefix+"login", http.StatusSeeOther)
}

// Body limits. Every console request is capped before anything reads its body:
// csrfOK reads a form's token, and net/http would otherwise read up to 10 MiB of a
// form (32 MiB of a multipart one) to find it.
const (
	// maxBody is the largest form or JSON body a page or API handler reads (a reply's
	// text, a canned answer).
	maxBody = 64 << 10
	// maxLoginBody is the largest login or logout form: an email, a password, a token.
	maxLoginBody = 8 << 10
)

// limitBody caps r's body at limit and reads a form body at once, before any check
// does. It answers the status to refuse r with, or 0 when r may go on: 415 for a
// multipart body (no console form sends files), 413 for a body over the limit, 400 for
// a form that does not parse.
func limitBody(w http.ResponseWriter, r *http.Request, limit int64) int {
	r.Body = http.MaxBytesReader(w, r.Body, limit)
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); strings.HasPrefix(mt, "multipart/") {
		return http.StatusUnsupportedMediaType
	}
	if r.Method != http.MethodPost && r.Method != http.MethodPut && r.Method != http.MethodPatch {
		return 0
	}
	if err := r.ParseForm(); err != nil {
		if tooBig := (*http.MaxBytesError)(nil); errors.As(err, &tooBig) {
			return http.StatusRequestEntityTooLarge
		}
		return http.StatusBadRequest
	}
	return 0
}

// bodyRefusal and bodyRefusalMsg say why limitBody refused: to the API (JSON) and on
// a page (message ids).
var (
	bodyRefusal = map[int]string{
		http.StatusUnsupportedMediaType:  "multipart bodies are not accepted; send a form or JSON",
		http.StatusRequestEntityTooLarge: "the body is too large",
		http.StatusBadRequest:            "the form cannot be read",
	}
	bodyRefusalMsg = map[int]string{
		http.StatusUnsupportedMediaType:  "console.auth.multipart",
		http.StatusRequestEntityTooLarge: "console.auth.too_large",
		http.StatusBadRequest:            "console.auth.bad_form",
	}
)

// pageBody limits a page's body (limitBody) before pageAuth checks its CSRF token.
func (s *Server) pageBody(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if status := limitBody(w, r, maxBody); status != 0 {
			s.errorPage(w, r, caller{}, status, bodyRefusalMsg[status])
			return
		}
		h.ServeHTTP(w, r)
	})
}

// cookie is the session cookie holding id; maxAge -1 deletes it. It lives as long as
// the browser (the session's own timeouts end it in Redis).
func (s *Server) cookie(id string, maxAge int) *http.Cookie {
	return &http.Cookie{
		Name: SessionCookie, Value: id, Path: Prefix, MaxAge: maxAge,
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: s.cfg.Secure,
	}
}

// clientAddr is the request's client address (behind a trusted proxy, the one it
// forwarded), for logs and the audit.
func (s *Server) clientAddr(r *http.Request) string {
	if a := s.cfg.Proxies.Addr(r); a.IsValid() {
		return a.String()
	}
	return "unknown"
}

// writeJSON answers v as JSON.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// writeError answers {"error": msg}.
func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}
