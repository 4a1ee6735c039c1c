package console

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/sangkien/sangkien/bot"
	"github.com/sangkien/sangkien/clientaddr"
	"github.com/sangkien/sangkien/console/workday"
	"github.com/sangkien/sangkien/locales"
)

// Prefix is where the console is served; its JSON API is under Prefix + "api/".
const Prefix = "/console/"

// Engine runs the console's actions as events of the conversation: bot.Engine.
type Engine interface {
	Handle(ctx context.Context, ev bot.Event) (bot.Outcome, error)
}

// Sessions are the staff's logins and tokens: redisstore.Staff implements it.
type Sessions interface {
	Get(ctx context.Context, email string) (bot.StaffMember, error)
	NewSession(ctx context.Context, m bot.StaffMember) (bot.StaffSession, error)
	Session(ctx context.Context, id string) (bot.StaffSession, bot.StaffMember, error)
	DeleteSession(ctx context.Context, id string) error
	ByToken(ctx context.Context, token string) (bot.StaffMember, error)
}

// Conversations is what the console reads of conversations: redisstore.Store.
type Conversations interface {
	Conversations(ctx context.Context, q bot.InboxQuery) ([]bot.Card, error)
	ConversationCounts(ctx context.Context) (map[bot.DeskStatus]int64, error)
	Card(ctx context.Context, conv bot.ConversationRef) (bot.Card, bool, error)
	Session(ctx context.Context, conv bot.ConversationRef) (*bot.Session, error)
	Transcript(ctx context.Context, conv bot.ConversationRef, n int) ([]bot.TranscriptEntry, error)
	Deliveries(ctx context.Context, conv bot.ConversationRef) (map[string]bot.DeliveryState, error)
	LookupReference(ctx context.Context, ref string) (bot.IndexedSubmission, error)
}

// Submissions are the refused submissions and their resend: redisstore.Store.
type Submissions interface {
	FailedSubmissions(ctx context.Context) ([]bot.SubmissionFailure, error)
	RetryFailed(ctx context.Context, id string) error
}

// Config is what a Server needs. Every field but Logger, Now, Calendar, Targets,
// MediaLink, Holidays, Reports, Programs, ProgramEdits and Broadcasts is required.
type Config struct {
	// Proxies tells which peers' X-Forwarded-For names the client (TRUSTED_PROXIES): the
	// address whose failed logins are counted and that the audit records.
	Proxies       clientaddr.Resolver
	Engine        Engine
	Accounts      Accounts
	Sessions      Sessions
	Conversations Conversations
	Submissions   Submissions
	Audit         AuditTrail
	Canned        CannedAnswers
	Changes       Changes
	// Reports reads the report counters (reports.go); nil means Conversations, when it
	// keeps them too. Programs names programs and fields in the reports (ids without).
	Reports  Reports
	Programs bot.ProgramSource
	// Broadcasts keeps the broadcasts (broadcasts.go); nil means Conversations, when
	// it keeps them too.
	Broadcasts Broadcasts
	// Calendar and Targets run the clocks (workday.Default() and DefaultTargets).
	Calendar *workday.Calendar
	Targets  workday.Targets
	// Holidays, when set, holds the admins' edits laid over Calendar
	// (redisstore.Holidays); the holidays page edits it.
	Holidays HolidayEdits
	// ProgramEdits, when set, holds the admins' edits of the programs (programs.Live,
	// which should be Programs too); the programs pages edit it.
	ProgramEdits ProgramEdits
	// MediaLink links to a file the citizen sent, through the gateway's media proxy
	// (media.Signer.PathFor with MediaLinkTTL); nil when the gateway has no proxy
	// (no PUBLIC_BASE_URL): files are then named, not shown.
	MediaLink func(bot.Channel, bot.Attachment) (string, error)
	// Secure marks the session cookie Secure: the console is served over https
	// (PUBLIC_BASE_URL starts with https://).
	Secure bool
	Logger *slog.Logger
	Now    func() time.Time
}

// Server serves the console's pages and API.
type Server struct {
	cfg   Config
	log   *slog.Logger
	mux   *http.ServeMux
	h     http.Handler
	cat   *locales.Catalog
	pages *pages
	done  chan struct{} // closed by Close: live streams end
	live  *hub
	hol   holidayCache // Calendar with the Holidays edits laid over it
}

// New builds the console. It fails when a part is missing.
func New(cfg Config) (*Server, error) {
	if cfg.Engine == nil || cfg.Sessions == nil || cfg.Conversations == nil || cfg.Submissions == nil ||
		cfg.Accounts.Store == nil || cfg.Audit == nil || cfg.Canned == nil || cfg.Changes == nil {
		return nil, errors.New("console: engine, accounts, sessions, conversations, submissions, audit, canned answers and changes are required")
	}
	if cfg.Calendar == nil {
		cfg.Calendar = workday.Default()
	}
	if cfg.Programs == nil {
		cfg.Programs = bot.Programs(nil)
	}
	if cfg.Targets == (workday.Targets{}) {
		cfg.Targets = workday.DefaultTargets
	}
	if err := cfg.Targets.Validate(); err != nil {
		return nil, err
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	cat, err := locales.New()
	if err != nil {
		return nil, err
	}
	pg, err := parsePages(cat)
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, log: cfg.Logger.With("component", "console"), mux: http.NewServeMux(), cat: cat, pages: pg,
		done: make(chan struct{})}
	s.live = newHub(cfg.Changes, s.done)
	s.routes()
	// Browsers say where a request comes from (Sec-Fetch-Site, Origin): one from
	// another site that would change something is refused before any handler runs.
	s.h = http.NewCrossOriginProtection().Handler(s.mux)
	return s, nil
}

// ServeHTTP serves everything under Prefix. No answer is sniffed for another type
// than it says, and no console URL (it names conversations) leaves as a referrer.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	s.h.ServeHTTP(w, r)
}

func (s *Server) routes() {
	api := func(pattern string, role bot.Role, h func(http.ResponseWriter, *http.Request, bot.StaffMember)) {
		s.mux.Handle(pattern, s.apiAuth(role, h))
	}
	api("GET /console/api/conversations", bot.RoleOperator, s.apiConversations)
	api("GET /console/api/conversations/{key}", bot.RoleOperator, s.apiConversation)
	for _, action := range []string{"takeover", "reply", "note", "handback", "resolve", "assign"} {
		api("POST /console/api/conversations/{key}/"+action, bot.RoleOperator, s.apiAction(action))
	}
	api("GET /console/api/submissions", bot.RoleAdmin, s.apiSubmissions)
	api("POST /console/api/submissions/{id}/resend", bot.RoleAdmin, s.apiResend)
	api("GET /console/api/me", bot.RoleOperator, s.apiMe)
	api("GET /console/api/audit", bot.RoleAdmin, s.apiAudit)
	api("GET /console/api/reports", bot.RoleOperator, s.apiReports)
	api("GET /console/api/canned", bot.RoleOperator, s.apiCanned)
	api("PUT /console/api/canned/{id}", bot.RoleAdmin, s.apiCannedPut)
	api("DELETE /console/api/canned/{id}", bot.RoleAdmin, s.apiCannedDelete)
	s.mux.HandleFunc("/console/api/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "no such API route")
	})
	s.mux.HandleFunc("GET /console/login", s.loginPage)
	s.mux.HandleFunc("POST /console/login", s.login)
	s.mux.HandleFunc("POST /console/logout", s.logout)
	s.mux.Handle("GET /console/static/", staticHandler())
	page := func(pattern string, role bot.Role, h func(http.ResponseWriter, *http.Request, caller)) {
		s.mux.Handle(pattern, s.pageBody(s.pageAuth(role, h)))
	}
	page("GET /console/{$}", bot.RoleOperator, s.inboxPage)
	page("GET /console/events", bot.RoleOperator, s.events)
	page("GET /console/conversations/{key}", bot.RoleOperator, s.conversationPage)
	for _, action := range []string{"takeover", "reply", "note", "handback", "resolve", "assign"} {
		page("POST /console/conversations/{key}/"+action, bot.RoleOperator, s.pageAction(action))
	}
	page("GET /console/reports", bot.RoleOperator, s.reportsPage)
	page("GET /console/submissions", bot.RoleAdmin, s.submissionsPage)
	page("POST /console/submissions/{id}/resend", bot.RoleAdmin, s.resendPage)
	s.adminRoutes(api, page)
	s.broadcastRoutes(api, page)
	s.programRoutes(page)
}

// MediaLinkTTL is how long a file's link on a console page works: long enough to read
// the conversation, short enough that a link copied elsewhere soon stops.
const MediaLinkTTL = time.Hour

// eventPrefix starts the id of every console action, and so of every reply one queued
// ("console:…/0"): those are the replies whose delivery the console follows.
const eventPrefix = "console:"

// eventID names a console action: unique, so that the engine runs each once.
func eventID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return eventPrefix + hex.EncodeToString(b[:])
}
