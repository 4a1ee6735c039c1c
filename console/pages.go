package console

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"time"

	"github.com/sangkien/sangkien/bot"
	"github.com/sangkien/sangkien/locales"
)

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed static
var staticFiles embed.FS

// LangCookie keeps the language a member of staff chose for the console.
const LangCookie = "sk_console_lang"

// pages are the parsed templates, one set per page, in both languages.
type pages struct {
	sets map[string]*template.Template // by "<page>.<lang>"
}

// pageNames are the console's pages; each is parsed with layout.html.
var pageNames = []string{"login", "inbox", "conversation", "submissions", "error", "staff", "canned", "audit", "holidays", "reports",
	"broadcasts", "broadcast", "broadcastnew", "programs", "program"}

// Messages the templates' helpers pick by value (ids are literals, so that the
// locales test finds them).
var (
	statusMsg = map[string]string{"waiting": "console.status.waiting", "open": "console.status.open", "resolved": "console.status.resolved"}
	reasonMsg = map[string]string{bot.WaitAsked: "console.reason.asked", bot.WaitMisses: "console.reason.misses", bot.WaitWrote: "console.reason.wrote"}
	clockMsg  = map[string]string{"on_time": "console.clock.on_time", "near": "console.clock.near", "late": "console.clock.late"}
	// A reply's delivery, and why one failed (bot.SendFailure's names).
	deliveryMsg = map[string]string{bot.DeliveryQueued: "console.delivery.queued", bot.DeliverySent: "console.delivery.sent",
		bot.DeliveryFailed: "console.delivery.failed"}
	// The days of the week (holidays, reports).
	weekdayMsg = map[time.Weekday]string{
		time.Monday: "console.weekday.mon", time.Tuesday: "console.weekday.tue", time.Wednesday: "console.weekday.wed",
		time.Thursday: "console.weekday.thu", time.Friday: "console.weekday.fri", time.Saturday: "console.weekday.sat",
		time.Sunday: "console.weekday.sun",
	}
	// A submission's status, as the citizen is told it.
	submissionMsg = map[string]string{bot.StatusSubmitted: "status.submitted", bot.StatusUndelivered: "console.subs.undelivered",
		bot.StatusReceived: "status.received", bot.StatusUnderReview: "status.under_review", bot.StatusNeedsInfo: "status.needs_info",
		bot.StatusAccepted: "status.accepted", bot.StatusRejected: "status.rejected", bot.StatusImplemented: "status.implemented"}
	failureMsg = map[string]string{"gone": "console.delivery.gone", "permanent": "console.delivery.permanent",
		"retryable": "console.delivery.retryable", "rate-limited": "console.delivery.retryable", "held": "console.delivery.held"}
)

// parsePages parses every template at start: a broken one fails the start.
func parsePages(cat *locales.Catalog) (*pages, error) {
	p := &pages{sets: map[string]*template.Template{}}
	for _, lang := range []string{locales.VI, locales.EN} {
		l := cat.For(lang)
		pick := func(m map[string]string) func(any) string {
			return func(v any) string {
				if id, ok := m[fmt.Sprint(v)]; ok {
					return l.T(id)
				}
				return fmt.Sprint(v)
			}
		}
		funcs := template.FuncMap{
			"t":      func(id string, data ...map[string]any) string { return l.T(id, data...) },
			"status": pick(statusMsg), "reason": pick(reasonMsg), "clock": pick(clockMsg),
			"delivery": pick(deliveryMsg), "failure": pick(failureMsg), "substatus": pick(submissionMsg),
			"when": func(t any) string { return when(t) },
			"iso":  func(t time.Time) string { return t.Format(time.RFC3339) },
			// path escapes a value that is one segment of a URL's path (a key, an email).
			"path": url.PathEscape,
			"num":  func(n int64) string { return number(n, lang) },
			// dict gives a message its data: {{t "id" (dict "N" 3)}}.
			"dict": dict,
		}
		for _, name := range pageNames {
			t, err := template.New(name).Funcs(funcs).ParseFS(templateFiles, "templates/layout.html", "templates/"+name+".html")
			if err != nil {
				return nil, fmt.Errorf("console: template %s: %w", name, err)
			}
			if t = t.Lookup(name + ".html"); t == nil {
				return nil, fmt.Errorf("console: template %s.html is missing", name)
			}
			p.sets[name+"."+lang] = t
		}
	}
	return p, nil
}

// dict makes a message's data of key, value pairs.
func dict(kv ...any) (map[string]any, error) {
	if len(kv)%2 != 0 {
		return nil, errors.New("dict: an odd number of arguments")
	}
	m := make(map[string]any, len(kv)/2)
	for i := 0; i < len(kv); i += 2 {
		k, ok := kv[i].(string)
		if !ok {
			return nil, fmt.Errorf("dict: key %v is not a string", kv[i])
		}
		m[k] = kv[i+1]
	}
	return m, nil
}

// when shows a time in the city's zone.
func when(v any) string {
	var t time.Time
	switch x := v.(type) {
	case time.Time:
		t = x
	case *time.Time:
		if x == nil {
			return ""
		}
		t = *x
	}
	if t.IsZero() {
		return ""
	}
	return t.In(zone()).Format("02/01/2006 15:04")
}

// PageLines is how much of a transcript the conversation page shows at first: the
// latest lines, with a link to the rest (the API always gives the whole transcript).
const PageLines = 200

// choice is an option of a select: a value and its label.
type choice struct{ Value, Label string }

// view is what every page gets.
type view struct {
	Page, Lang, Title, CSRF string
	Me                      bot.StaffMember
	Flash, FlashKind        string
	Message                 string
	Email                   string // the login form's
	// The inbox's:
	Rows     []conversationJSON
	Filter   bot.InboxQuery
	Search   string
	Statuses []bot.DeskStatus
	Channels []bot.Channel
	Programs []choice
	Counts   map[string]any
	// The conversation's:
	C *conversationDetail
	D *conversationDetail
	// Earlier counts the transcript's lines not shown ({"Count": n}; PageLines).
	Earlier map[string]any
	// The draft's program and field by name, in the page's language.
	DraftProgram, DraftField string
	Canned                   []cannedView
	// Colleagues are the active accounts a conversation can be assigned to.
	Colleagues []bot.StaffMember
	// The submissions':
	Subs []submissionJSON
	// The admin pages' (staff, canned answers, audit, holidays):
	Admin *adminView
	// The reports' (reports.go):
	Report *reportView
	// The broadcasts' (broadcasts.go); Refresh, when above 0, reloads the page every
	// so many seconds (a broadcast on it is sending).
	Broadcast *broadcastView
	Refresh   int
	// The programs' (adminprograms.go):
	Program *programView
}

// cannedView is a canned answer as the reply form offers it.
type cannedView struct{ Title, Text string }

// render writes page name with v, in v.Lang. The page is rendered to a buffer first,
// so that a failure gives a clean error, not half a page.
func (s *Server) render(w http.ResponseWriter, status int, name string, v view) {
	t := s.pages.sets[name+"."+v.Lang]
	var buf bytes.Buffer
	if err := t.Execute(&buf, v); err != nil {
		s.log.Error("render", "page", name, "err", err)
		http.Error(w, "the page could not be shown", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
	w.WriteHeader(status)
	_, _ = buf.WriteTo(w)
}

// lang is the console language for r: ?lang= (remembered in a cookie), the cookie,
// then Vietnamese.
func (s *Server) lang(w http.ResponseWriter, r *http.Request) string {
	if l := r.URL.Query().Get("lang"); l == locales.VI || l == locales.EN {
		http.SetCookie(w, &http.Cookie{Name: LangCookie, Value: l, Path: Prefix, MaxAge: 400 * 24 * 3600,
			HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: s.cfg.Secure})
		return l
	}
	if c, err := r.Cookie(LangCookie); err == nil && (c.Value == locales.EN || c.Value == locales.VI) {
		return c.Value
	}
	return locales.VI
}

// newView starts a page's view for c.
func (s *Server) newView(w http.ResponseWriter, r *http.Request, page string, c caller) view {
	v := view{Page: page, Lang: s.lang(w, r), Me: c.member}
	if c.session != nil {
		v.CSRF = c.session.CSRF
	}
	if f := r.URL.Query().Get("flash"); f != "" {
		if id, ok := flashMsg[f]; ok {
			v.Flash, v.FlashKind = s.cat.For(v.Lang).T(id), "ok"
		}
	}
	if e := r.URL.Query().Get("error"); e != "" {
		if id, ok := flashMsg[e]; ok {
			v.Flash, v.FlashKind = s.cat.For(v.Lang).T(id), "bad"
		}
	}
	return v
}

// flashMsg are the notices a redirect after an action may show (?flash=, ?error=).
var flashMsg = map[string]string{
	"takeover": "console.done.takeover", "reply": "console.done.reply", "note": "console.done.note",
	"handback": "console.done.handback", "resolve": "console.done.resolve", "assign": "console.done.assign",
	"resend": "console.done.resend", "held": "console.error.held", "text": "console.error.text",
	"assignee": "console.error.assignee",
}

// pageAuth wraps a page: the login page without a session, 403 for a form without
// its CSRF token or a role too low.
func (s *Server) pageAuth(need bot.Role, h func(http.ResponseWriter, *http.Request, caller)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, ok, err := s.authenticate(r)
		switch {
		case err != nil:
			s.log.Error("authenticate", "err", err)
			s.errorPage(w, r, caller{}, http.StatusServiceUnavailable, "console.unavailable")
		case !ok || c.session == nil:
			http.Redirect(w, r, Prefix+"login", http.StatusSeeOther)
		case !csrfOK(r, c):
			s.errorPage(w, r, c, http.StatusForbidden, "console.error.csrf")
		case !allowed(c.member.Role, need):
			s.errorPage(w, r, c, http.StatusForbidden, "console.error.role")
		default:
			h(w, r, c)
		}
	})
}

func (s *Server) errorPage(w http.ResponseWriter, r *http.Request, c caller, status int, msgID string) {
	v := s.newView(w, r, "error", c)
	v.Title, v.Message = s.cat.For(v.Lang).T("console.error.title"), s.cat.For(v.Lang).T(msgID)
	s.render(w, status, "error", v)
}

func (s *Server) loginPage(w http.ResponseWriter, r *http.Request) {
	s.renderLogin(w, r, http.StatusOK, "", "")
}

// renderLogin shows the login form, with msgID's message when a login failed.
func (s *Server) renderLogin(w http.ResponseWriter, r *http.Request, status int, msgID, email string) {
	v := s.newView(w, r, "login", caller{})
	v.Title, v.Email = s.cat.For(v.Lang).T("console.login.title"), email
	if msgID != "" {
		v.Flash, v.FlashKind = s.cat.For(v.Lang).T(msgID), "bad"
	}
	s.render(w, status, "login", v)
}

func (s *Server) inboxPage(w http.ResponseWriter, r *http.Request, c caller) {
	v := s.newView(w, r, "inbox", c)
	q, search, limit, err := inboxQuery(r)
	q.Lang = r.URL.Query().Get("lang_filter")
	if err != nil {
		s.errorPage(w, r, c, http.StatusBadRequest, "console.error.filter")
		return
	}
	cards, err := s.list(r.Context(), q, search, limit, c.member.Email)
	if err != nil {
		s.log.Error("inbox", "err", err)
		s.errorPage(w, r, c, http.StatusServiceUnavailable, "console.unavailable")
		return
	}
	counts, err := s.cfg.Conversations.ConversationCounts(r.Context())
	if err != nil {
		s.log.Error("inbox counts", "err", err)
	}
	v.Title, v.Filter, v.Search = s.cat.For(v.Lang).T("console.inbox"), q, search
	v.Statuses = []bot.DeskStatus{bot.DeskWaiting, bot.DeskOpen, bot.DeskResolved}
	v.Channels = []bot.Channel{bot.Telegram, bot.Zalo, bot.Web, bot.Terminal}
	for _, p := range s.cfg.Programs.Programs() {
		v.Programs = append(v.Programs, choice{p.ID, p.Name.In(v.Lang)})
	}
	v.Counts = map[string]any{"Waiting": counts[bot.DeskWaiting], "Open": counts[bot.DeskOpen], "Resolved": counts[bot.DeskResolved]}
	for _, card := range cards {
		v.Rows = append(v.Rows, s.row(card))
	}
	s.render(w, http.StatusOK, "inbox", v)
}

func (s *Server) conversationPage(w http.ResponseWriter, r *http.Request, c caller) {
	v := s.newView(w, r, "conversation", c)
	d, ok, err := s.detail(r.Context(), r.PathValue("key"))
	switch {
	case err != nil:
		s.log.Error("conversation", "err", err)
		s.errorPage(w, r, c, http.StatusServiceUnavailable, "console.unavailable")
		return
	case !ok:
		s.errorPage(w, r, c, http.StatusNotFound, "console.error.no_conversation")
		return
	}
	if n := len(d.Transcript) - PageLines; n > 0 && r.URL.Query().Get("all") == "" {
		d.Transcript, v.Earlier = d.Transcript[n:], map[string]any{"Count": n}
	}
	v.Title, v.C, v.D = d.Key, &d, &d
	if dr := d.Draft; dr != nil {
		v.DraftProgram, v.DraftField = s.programName(dr.ProgramID, v.Lang), s.fieldName(dr.ProgramID, dr.Field, v.Lang)
	}
	v.Canned = s.cannedFor(r.Context(), d.conversationJSON)
	staff, err := s.cfg.Accounts.Store.List(r.Context())
	if err != nil {
		s.log.Warn("the staff list for assigning is unavailable", "err", err)
	}
	for _, m := range staff {
		if !m.Disabled && m.Email != c.member.Email {
			v.Colleagues = append(v.Colleagues, m)
		}
	}
	s.render(w, http.StatusOK, "conversation", v)
}

// pageAction runs a form's action and goes back to the conversation, saying how it went.
func (s *Server) pageAction(action string) func(http.ResponseWriter, *http.Request, caller) {
	return func(w http.ResponseWriter, r *http.Request, c caller) {
		key := r.PathValue("key")
		back := Prefix + "conversations/" + url.PathEscape(key)
		in, err := readInput(r)
		if err == nil {
			_, err = s.actAndAudit(r, c.member, action, in)
		}
		var ae *actionError
		switch {
		case errors.As(err, &ae) && ae.status == http.StatusNotFound:
			s.errorPage(w, r, c, http.StatusNotFound, "console.error.no_conversation")
		case errors.As(err, &ae) && ae.heldBy != "":
			http.Redirect(w, r, back+"?error=held", http.StatusSeeOther)
		case errors.As(err, &ae) && action == "assign":
			http.Redirect(w, r, back+"?error=assignee", http.StatusSeeOther)
		case errors.As(err, &ae):
			http.Redirect(w, r, back+"?error=text", http.StatusSeeOther)
		case err != nil:
			s.log.Error(action, "err", err)
			s.errorPage(w, r, c, http.StatusServiceUnavailable, "console.unavailable")
		default:
			http.Redirect(w, r, back+"?flash="+action, http.StatusSeeOther)
		}
	}
}

func (s *Server) submissionsPage(w http.ResponseWriter, r *http.Request, c caller) {
	v := s.newView(w, r, "submissions", c)
	failed, err := s.cfg.Submissions.FailedSubmissions(r.Context())
	if err != nil {
		s.log.Error("submissions", "err", err)
		s.errorPage(w, r, c, http.StatusServiceUnavailable, "console.unavailable")
		return
	}
	v.Title = s.cat.For(v.Lang).T("console.submissions.refused")
	for _, f := range failed {
		v.Subs = append(v.Subs, submissionJSON{ID: f.Submission.ID, Reference: f.Submission.Reference,
			Key: f.Submission.Conversation.Key(), Title: f.Submission.Title, Reason: f.Body, Code: f.Code, At: f.At})
	}
	s.render(w, http.StatusOK, "submissions", v)
}

func (s *Server) resendPage(w http.ResponseWriter, r *http.Request, c caller) {
	err := s.cfg.Submissions.RetryFailed(r.Context(), r.PathValue("id"))
	switch {
	case errors.Is(err, bot.ErrUnknownSubmission):
		s.errorPage(w, r, c, http.StatusNotFound, "console.error.no_submission")
	case err != nil:
		s.log.Error("resend", "err", err)
		s.errorPage(w, r, c, http.StatusServiceUnavailable, "console.unavailable")
	default:
		s.log.Info("submission resent", "staff", bot.MaskID(c.member.Email), "submission", r.PathValue("id"))
		s.audit(r, c.member.Email, bot.AuditResend, bot.AuditEntry{Submission: r.PathValue("id")})
		http.Redirect(w, r, Prefix+"submissions?flash=resend", http.StatusSeeOther)
	}
}

// static serves the embedded stylesheet and script.
func staticHandler() http.Handler {
	sub, _ := fs.Sub(staticFiles, "static")
	return http.StripPrefix(Prefix+"static/", http.FileServerFS(sub))
}
