package flows

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/sangkien/sangkien/bot"
	"github.com/sangkien/sangkien/locales"
)

// References hands out sequential reference numbers per prefix and year.
// bot/redisstore.Store implements it.
type References interface {
	NextReference(ctx context.Context, prefix string, year int) (int64, error)
}

// Config configures a Router.
type Config struct {
	Programs bot.ProgramSource
	Catalog  *locales.Catalog
	Refs     References
	// Now is the clock (default time.Now).
	Now func() time.Time
	// NoticeVersion names the privacy notice the citizen accepts (default "2026-11").
	NoticeVersion string
	// NewID makes draft ids, which become submission ids (default: 16 random bytes, hex).
	NewID func() string
	// Logger is optional; nothing a citizen typed is ever logged.
	Logger *slog.Logger
	// Area is the city: a shared point outside it is questioned (default Hanoi).
	Area *Area
	// LegacyMenu keeps the main menu's labels in the state's Offered as well as naming
	// the menu (State.OfferedMenu), for versions before the named menu, which read only
	// Offered: with REDIS_LEGACY_FORMAT, during a rolling upgrade.
	LegacyMenu bool
}

// How long a draft waits: after resumeAfter the citizen is asked whether to continue;
// after draftTTL it is gone (the store expires it too).
const (
	resumeAfter = time.Hour
	draftTTL    = 30 * 24 * time.Hour
)

// Router is the bot's conversation: it implements bot.Conversation.
type Router struct {
	programs bot.ProgramSource
	cat      *locales.Catalog
	refs     References
	now      func() time.Time
	notice   string
	newID    func() string
	// legacyMenu is Config.LegacyMenu.
	legacyMenu bool
	log        *slog.Logger
	area       Area
	flows      map[string]*flow
	// questions are the pending yes/no questions (pending.go).
	questions map[string]question
}

var _ bot.Conversation = (*Router)(nil)

// NewRouter builds a Router.
func NewRouter(cfg Config) (*Router, error) {
	if cfg.Catalog == nil || cfg.Refs == nil {
		return nil, errors.New("flows: catalog and references are required")
	}
	r := &Router{
		programs: cfg.Programs,
		cat:      cfg.Catalog,
		refs:     cfg.Refs,
		now:      cfg.Now,
		notice:   cfg.NoticeVersion,
		newID:    cfg.NewID,
		log:      cfg.Logger,

		legacyMenu: cfg.LegacyMenu,
	}
	if r.programs == nil {
		r.programs = bot.Programs(nil)
	}
	if r.now == nil {
		r.now = time.Now
	}
	if r.notice == "" {
		r.notice = "2026-11"
	}
	if r.newID == nil {
		r.newID = randomID
	}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	r.area = Hanoi
	if cfg.Area != nil {
		r.area = *cfg.Area
	}
	r.log = r.log.With("component", "flows")
	r.questions = questions()
	r.flows = map[string]*flow{
		bot.KindInitiative: initiativeFlow(),
		bot.KindFeedback:   feedbackFlow(),
	}
	for name, f := range r.flows {
		if err := f.check(); err != nil {
			return nil, fmt.Errorf("flow %s: %w", name, err)
		}
	}
	return r, nil
}

func randomID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return hex.EncodeToString(b[:])
}

// Respond runs one event: it changes the session in place and returns the replies.
func (r *Router) Respond(ctx context.Context, s *bot.Session, ev bot.Event) (bot.Result, error) {
	t := &turn{r: r, ctx: ctx, s: s, ev: ev, now: r.now(), programs: r.programs.Programs(), filled: map[string]bool{}}
	defer t.release()
	if ev.Kind == bot.EventStatus {
		// The city speaks, not the citizen: the flow, its draft and the offered choices
		// stay as they were, so the pending question can still be answered by number.
		t.statusChange()
		r.log.DebugContext(ctx, "status change told", "conversation", bot.MaskID(s.Conversation.Key()), "event", ev.ID,
			"replies", len(t.res.Replies))
		return t.res, nil
	}
	if ev.Kind == bot.EventStaffMessage {
		// Staff wrote to the citizen themselves: as with the city's notice, nothing the
		// citizen did changes, but from now on a person has the conversation.
		t.staffMessage()
		return t.res, nil
	}
	switch ev.Kind {
	case bot.EventStaffJoin, bot.EventStaffReply, bot.EventStaffHandback,
		bot.EventStaffNote, bot.EventStaffAssign, bot.EventStaffResolve:
		t.setLang()
		t.console()
		return t.res, nil
	}
	if err := t.run(); err != nil {
		return bot.Result{}, err
	}
	s.State.Offered, s.State.OfferedMenu = nil, false
	if n := len(t.res.Replies); n > 0 {
		s.State.Offered = t.res.Replies[n-1].Choices
		if len(s.State.Offered) == len(menuItems) && slices.Equal(s.State.Offered, t.menuChoices()) {
			s.State.OfferedMenu = true // named, not copied: its labels are the catalog's
			if !r.legacyMenu {
				s.State.Offered = nil
			}
		}
	}
	s.State.Updated = t.now
	if s.State.Flow == "" && s.State.Pending == "" {
		s.State.Misses = 0
	}
	r.log.DebugContext(ctx, "responded", "conversation", bot.MaskID(s.Conversation.Key()), "event", ev.ID,
		"kind", ev.Kind, "flow", s.State.Flow, "step", s.State.Step, "replies", len(t.res.Replies))
	return t.res, nil
}

// run is the order of handling, top to bottom: the first part that claims the event
// answers it.
func (t *turn) run() error {
	s := t.s
	switch t.ev.Kind {
	case bot.EventUnfollow:
		s.Profile.Unreachable = true
		t.setLang()
		return nil
	case bot.EventFollow:
		s.Profile.Unreachable = false
		t.setLang()
		t.menu("menu.welcome")
		return nil
	}
	s.Profile.Unreachable = false
	t.setLang()
	t.expire()
	in := t.read()

	if s.Profile.Mode == bot.ModeHuman {
		return t.human(in)
	}
	if t.ev.Kind == bot.EventUnsupported {
		if t.ev.Unsupported == bot.UnsupportedFileElsewhere {
			t.say(t.tr("unsupported.file_elsewhere"))
		} else {
			t.say(t.tr("unsupported.text"))
		}
		t.current()
		return nil
	}
	if s.State.Pending != "" {
		if done, err := t.pending(in); done || err != nil {
			return err
		}
	}
	if in.cmd != "" {
		return t.command(in)
	}
	if t.stale() {
		t.askResume()
		return nil
	}
	if s.State.Flow != "" {
		return t.answer(in)
	}
	if s.New {
		t.menu("menu.welcome")
	} else {
		t.menu("menu.unknown")
	}
	return nil
}

// Offered are the choices the session's last reply offered, which a typed number or
// label answers: State.Offered, or the main menu in the session's language when the
// state names it (State.OfferedMenu).
func (r *Router) Offered(s *bot.Session) []bot.Choice {
	if !s.State.OfferedMenu {
		return s.State.Offered
	}
	return menuChoicesIn(r.cat.For(s.Profile.Lang))
}

// setLang takes the channel's hint until the citizen has a language.
func (t *turn) setLang() {
	if t.s.Profile.Lang != locales.VI && t.s.Profile.Lang != locales.EN {
		t.s.Profile.Lang = locales.Normalize(t.ev.Lang)
	}
	t.l = t.r.cat.For(t.s.Profile.Lang)
}

// expire drops a draft older than draftTTL: the store would have expired it already.
func (t *turn) expire() {
	st := &t.s.State
	if !st.Updated.IsZero() && t.now.Sub(st.Updated) > draftTTL {
		*st = bot.State{}
	}
}

// stale reports a draft worth keeping that the citizen left more than resumeAfter ago.
func (t *turn) stale() bool {
	st := t.s.State
	return st.Flow != "" && hasAnswers(st.Draft) && !st.Updated.IsZero() && t.now.Sub(st.Updated) > resumeAfter
}

// hasAnswers reports whether a draft holds anything the citizen would lose.
func hasAnswers(d *bot.Draft) bool {
	if d == nil {
		return false
	}
	return d.Field != "" || d.Title != "" || d.Description != "" || d.Benefit != "" ||
		d.Location != nil || d.LocationText != "" || len(d.Attachments) > 0 ||
		d.Name != "" || d.Phone != "" || d.Email != "" ||
		d.Topic != "" || d.Rating != 0 || d.Comment != ""
}
