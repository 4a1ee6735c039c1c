package console

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/sangkien/sangkien/bot"
	"github.com/sangkien/sangkien/locales"
)

// This file is the broadcasts' pages and API: the latest broadcasts and how far each
// got (operators read them), one broadcast's texts and progress, and for admins a
// broadcast made by hand (a form, a preview in both languages with the number of
// recipients, then a confirmation) and a cancel. The fan-out itself is broadcast/'s.

// Broadcasts are the broadcasts the console shows and makes: redisstore.Store.
type Broadcasts interface {
	Broadcasts(ctx context.Context, n int) ([]bot.Broadcast, error)
	Broadcast(ctx context.Context, id string) (bot.Broadcast, error)
	SaveBroadcast(ctx context.Context, b bot.Broadcast) error
	SetBroadcastState(ctx context.Context, id string, state bot.BroadcastState, from ...bot.BroadcastState) (bool, error)
	DropBroadcast(ctx context.Context, id string) (int64, error)
	BroadcastProgress(ctx context.Context, id string) (bot.BroadcastProgress, error)
	AudienceCount(ctx context.Context, q bot.AudienceQuery) (int64, error)
}

// BroadcastsListed is how many broadcasts the list shows, newest first.
const BroadcastsListed = 50

// BroadcastRefresh is how often, in seconds, a page reloads itself while a broadcast
// on it is sending.
const BroadcastRefresh = 5

func (s *Server) broadcastRoutes(
	api func(string, bot.Role, func(http.ResponseWriter, *http.Request, bot.StaffMember)),
	page func(string, bot.Role, func(http.ResponseWriter, *http.Request, caller)),
) {
	api("GET /console/api/broadcasts", bot.RoleOperator, s.apiBroadcasts)
	api("GET /console/api/broadcasts/{id}", bot.RoleOperator, s.apiBroadcast)
	api("POST /console/api/broadcasts", bot.RoleAdmin, s.apiBroadcastCreate)
	api("POST /console/api/broadcasts/{id}/cancel", bot.RoleAdmin, s.apiBroadcastCancel)
	page("GET /console/broadcasts", bot.RoleOperator, s.broadcastsPage)
	page("GET /console/broadcasts/new", bot.RoleAdmin, s.broadcastNewPage)
	page("POST /console/broadcasts/preview", bot.RoleAdmin, s.broadcastPreviewPage)
	page("POST /console/broadcasts", bot.RoleAdmin, s.broadcastCreatePage)
	page("GET /console/broadcasts/{id}", bot.RoleOperator, s.broadcastPage)
	page("POST /console/broadcasts/{id}/cancel", bot.RoleAdmin, s.broadcastCancelPage)
}

// broadcasts is Config.Broadcasts, or the conversations' store when it keeps the
// broadcasts too (redisstore.Store does), nil when neither.
func (s *Server) broadcasts() Broadcasts {
	if s.cfg.Broadcasts != nil {
		return s.cfg.Broadcasts
	}
	b, _ := s.cfg.Conversations.(Broadcasts)
	return b
}

var errNoBroadcasts = errors.New("console: no broadcast store configured")

// broadcastJSON is a broadcast as the API gives it.
type broadcastJSON struct {
	ID       string    `json:"id"`
	Audience string    `json:"audience"` // subscribed, all, program:ID or draft:ID
	Channel  string    `json:"channel,omitempty"`
	Lang     string    `json:"lang,omitempty"`
	Text     bot.Text  `json:"text"`
	At       time.Time `json:"at"`
	Created  time.Time `json:"created"`
	By       string    `json:"by,omitempty"`
	State    string    `json:"state"`
	Progress progress  `json:"progress"`
}

// progress is how far a broadcast got (bot.BroadcastProgress's counts). Rate is the
// messages done (sent, failed, skipped or cancelled) per
// second since the broadcast's time; LeftSeconds, how long the rest takes at that
// rate (only while it sends and the rate is known).
type progress struct {
	Queued int64 `json:"queued"`
	Sent   int64 `json:"sent"`
	Failed int64 `json:"failed"`
	// Skipped counts the recipients left out, SkippedBy by reason (bot's Skip
	// constants): said stop, blocked the bot, unfollowed, outside Zalo's window, erased.
	Skipped    int64            `json:"skipped"`
	SkippedBy  map[string]int64 `json:"skipped_by,omitempty"`
	Cancelled  int64            `json:"cancelled"`
	Shards     int              `json:"shards"`
	ShardsDone int              `json:"shards_done"`
	Finished   bool             `json:"finished"`
	Percent    float64          `json:"percent"`
	// Recipients is the audience's size now, while the broadcast is scheduled or its
	// fan-out runs (Queued grows towards it); 0 after.
	Recipients  int64   `json:"recipients,omitempty"`
	Rate        float64 `json:"rate"`
	LeftSeconds *int64  `json:"left_seconds,omitempty"`
}

// done counts the recipients finished with (bot.BroadcastProgress.Done).
func (p progress) done() int64 { return p.Sent + p.Failed + p.Skipped + p.Cancelled }

func audienceName(q bot.AudienceQuery) string {
	if q.Program != "" {
		return string(q.Kind) + ":" + q.Program
	}
	return string(q.Kind)
}

// readBroadcast is one broadcast with its progress; withReach also counts its audience
// while that matters (one count per shard and index: the detail page's, not the list's).
func (s *Server) readBroadcast(ctx context.Context, st Broadcasts, b bot.Broadcast, withReach bool) (broadcastJSON, error) {
	p, err := st.BroadcastProgress(ctx, b.ID)
	if err != nil {
		return broadcastJSON{}, fmt.Errorf("console: broadcast %s: %w", b.ID, err)
	}
	out := broadcastJSON{ID: b.ID, Audience: audienceName(b.Audience), Channel: string(b.Audience.Channel), Lang: b.Audience.Lang,
		Text: b.Text, At: b.At.In(zone()), Created: b.Created.In(zone()), By: b.By, State: string(b.State),
		Progress: progress{Queued: p.Queued, Sent: p.Sent, Failed: p.Failed, Skipped: p.SkippedAll(), SkippedBy: p.Skipped, Cancelled: p.Cancelled,
			Shards: p.Shards, ShardsDone: p.ShardsDone, Finished: p.Finished(), Percent: pct(p.Done(), p.Queued)}}
	if withReach && (b.State == bot.BroadcastScheduled || b.State == bot.BroadcastSending) {
		if out.Progress.Recipients, err = st.AudienceCount(ctx, b.Recipients()); err != nil {
			return broadcastJSON{}, fmt.Errorf("console: broadcast %s audience: %w", b.ID, err)
		}
	}
	s.rate(&out.Progress, b)
	return out, nil
}

// rate fills in the rate and the time left of a broadcast that is sending: the
// messages done since its time, over the time since. Simple, and honest enough for
// a page an admin glances at: quiet hours held it, the rate says so.
func (s *Server) rate(p *progress, b bot.Broadcast) {
	sending := b.State == bot.BroadcastSending || (b.State == bot.BroadcastQueued && !p.Finished)
	since := s.cfg.Now().Sub(b.At).Seconds()
	done := p.done()
	if !sending || since <= 0 || done <= 0 {
		return
	}
	p.Rate = math.Round(float64(done)/since*10) / 10
	total := max(p.Queued, p.Recipients)
	if left := total - done; left >= 0 {
		secs := int64(math.Ceil(float64(left) * since / float64(done)))
		p.LeftSeconds = &secs
	}
}

func (s *Server) apiBroadcasts(w http.ResponseWriter, r *http.Request, _ bot.StaffMember) {
	list, err := s.listBroadcasts(r.Context())
	if err != nil {
		s.storeFailed(w, "broadcasts", err)
		return
	}
	writeJSON(w, http.StatusOK, list)
}

func (s *Server) listBroadcasts(ctx context.Context) ([]broadcastJSON, error) {
	st := s.broadcasts()
	if st == nil {
		return nil, errNoBroadcasts
	}
	bs, err := st.Broadcasts(ctx, BroadcastsListed)
	if err != nil {
		return nil, err
	}
	out := make([]broadcastJSON, 0, len(bs))
	for _, b := range bs {
		j, err := s.readBroadcast(ctx, st, b, false)
		if err != nil {
			return nil, err
		}
		out = append(out, j)
	}
	return out, nil
}

// oneBroadcast reads the broadcast of the path's id; ok is false when there is none.
func (s *Server) oneBroadcast(ctx context.Context, id string) (broadcastJSON, bool, error) {
	st := s.broadcasts()
	if st == nil {
		return broadcastJSON{}, false, errNoBroadcasts
	}
	b, err := st.Broadcast(ctx, id)
	if errors.Is(err, bot.ErrUnknownBroadcast) {
		return broadcastJSON{}, false, nil
	}
	if err != nil {
		return broadcastJSON{}, false, err
	}
	j, err := s.readBroadcast(ctx, st, b, true)
	return j, err == nil, err
}

func (s *Server) apiBroadcast(w http.ResponseWriter, r *http.Request, _ bot.StaffMember) {
	j, ok, err := s.oneBroadcast(r.Context(), r.PathValue("id"))
	switch {
	case err != nil:
		s.storeFailed(w, "broadcast", err)
	case !ok:
		writeError(w, http.StatusNotFound, "no broadcast has this id")
	default:
		writeJSON(w, http.StatusOK, j)
	}
}

// broadcastInput is what makes a broadcast: the API's JSON, the page's form.
type broadcastInput struct {
	Audience string   `json:"audience"`
	Channel  string   `json:"channel"`
	Lang     string   `json:"lang"`
	Text     bot.Text `json:"text"`
	// At is when to send: RFC 3339 in the API, the form's datetime-local (the city's
	// time) on the page; empty for now.
	At string `json:"at"`
	// Preview answers the broadcast and its recipients without making it.
	Preview bool `json:"preview"`
}

// broadcastRefusal is an input no broadcast can be made of: msg for the API, msgID
// for the page.
type broadcastRefusal struct{ msg, msgID string }

func (e *broadcastRefusal) Error() string { return e.msg }

// makeBroadcast checks in (but for its At: the caller read it, as at) and makes the
// broadcast it describes, by by, named id ("" for a new id).
func (s *Server) makeBroadcast(in broadcastInput, id, by string, at time.Time) (bot.Broadcast, error) {
	q, err := bot.ParseAudience(in.Audience)
	if err == nil {
		q.Channel, q.Lang = bot.Channel(in.Channel), in.Lang
		err = q.Validate()
	}
	if err != nil {
		return bot.Broadcast{}, &broadcastRefusal{err.Error(), "console.broadcasts.error.audience"}
	}
	if q.Program != "" {
		if _, ok := s.cfg.Programs.Programs().Get(q.Program); !ok {
			return bot.Broadcast{}, &broadcastRefusal{"unknown program " + strconv.Quote(q.Program), "console.broadcasts.error.audience"}
		}
	}
	text := bot.Text{VI: strings.TrimSpace(in.Text.VI), EN: strings.TrimSpace(in.Text.EN)}
	switch {
	case text.VI == "":
		return bot.Broadcast{}, &broadcastRefusal{"the Vietnamese text is required", "console.broadcasts.error.text_vi"}
	case utf8.RuneCountInString(text.VI) > bot.BroadcastTextMax || utf8.RuneCountInString(text.EN) > bot.BroadcastTextMax,
		!utf8.ValidString(text.VI) || !utf8.ValidString(text.EN):
		return bot.Broadcast{}, &broadcastRefusal{fmt.Sprintf("a text is longer than %d characters", bot.BroadcastTextMax), "console.broadcasts.error.too_long"}
	}
	now := s.cfg.Now()
	if at.IsZero() {
		at = now
	}
	// datetime-local has minutes: the current minute is "now", an earlier one a mistake.
	if at.Before(now.Truncate(time.Minute)) {
		return bot.Broadcast{}, &broadcastRefusal{"at is in the past", "console.broadcasts.error.past"}
	}
	if id == "" {
		id = bot.NewBroadcastID(now, zone())
	}
	b := bot.Broadcast{ID: id, Audience: q, Text: text, At: at, Created: now, By: by, State: bot.BroadcastScheduled}
	if err := b.Validate(); err != nil {
		return bot.Broadcast{}, &broadcastRefusal{err.Error(), "console.broadcasts.error.audience"}
	}
	return b, nil
}

// create saves b and records it in the audit trail; it returns how many citizens it
// reaches now.
func (s *Server) create(r *http.Request, st Broadcasts, m bot.StaffMember, b bot.Broadcast) (int64, error) {
	reach, err := st.AudienceCount(r.Context(), b.Recipients())
	if err != nil {
		return 0, err
	}
	if err := st.SaveBroadcast(r.Context(), b); err != nil {
		return 0, err
	}
	s.log.Info("broadcast created", "broadcast", b.ID, "staff", bot.MaskID(m.Email), "audience", b.Audience.Index(), "recipients", reach)
	s.audit(r, m.Email, bot.AuditBroadcastCreate, bot.AuditEntry{
		Detail: fmt.Sprintf("%s %s, %d recipients, from %s", b.ID, audienceName(b.Audience), reach, b.At.In(zone()).Format(time.RFC3339))})
	return reach, nil
}

func (s *Server) apiBroadcastCreate(w http.ResponseWriter, r *http.Request, m bot.StaffMember) {
	st := s.broadcasts()
	if st == nil {
		s.storeFailed(w, "broadcast create", errNoBroadcasts)
		return
	}
	var in broadcastInput
	if err := decodeJSON(r.Body, &in); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	var at time.Time
	if in.At != "" {
		var err error
		if at, err = time.Parse(time.RFC3339, in.At); err != nil {
			writeError(w, http.StatusBadRequest, "at must be an RFC 3339 time, e.g. 2026-12-01T09:00:00+07:00")
			return
		}
	}
	b, err := s.makeBroadcast(in, "", m.Email, at)
	var refused *broadcastRefusal
	if errors.As(err, &refused) {
		writeError(w, http.StatusBadRequest, refused.msg)
		return
	}
	var reach int64
	if in.Preview {
		reach, err = st.AudienceCount(r.Context(), b.Recipients())
	} else {
		reach, err = s.create(r, st, m, b)
	}
	if err != nil {
		s.storeFailed(w, "broadcast create", err)
		return
	}
	status := http.StatusCreated
	if in.Preview {
		status = http.StatusOK
	}
	j := broadcastJSON{ID: b.ID, Audience: audienceName(b.Audience), Channel: string(b.Audience.Channel), Lang: b.Audience.Lang,
		Text: b.Text, At: b.At.In(zone()), Created: b.Created.In(zone()), By: b.By, State: string(b.State),
		Progress: progress{Recipients: reach}}
	writeJSON(w, status, j)
}

func (s *Server) apiBroadcastCancel(w http.ResponseWriter, r *http.Request, m bot.StaffMember) {
	id := r.PathValue("id")
	err := s.cancel(r, m, id)
	switch {
	case errors.Is(err, bot.ErrUnknownBroadcast):
		writeError(w, http.StatusNotFound, "no broadcast has this id")
	case errors.Is(err, bot.ErrNotCancellable):
		writeError(w, http.StatusConflict, err.Error())
	case err != nil:
		s.storeFailed(w, "broadcast cancel", err)
	default:
		j, _, err := s.oneBroadcast(r.Context(), id)
		if err != nil {
			s.storeFailed(w, "broadcast", err)
			return
		}
		writeJSON(w, http.StatusOK, j)
	}
}

// cancel stops a broadcast (bot.CancelBroadcast) and records it.
func (s *Server) cancel(r *http.Request, m bot.StaffMember, id string) error {
	st := s.broadcasts()
	if st == nil {
		return errNoBroadcasts
	}
	n, err := bot.CancelBroadcast(r.Context(), st, id)
	if err != nil {
		return err
	}
	s.log.Info("broadcast cancelled", "broadcast", id, "staff", bot.MaskID(m.Email), "taken_out", n)
	s.audit(r, m.Email, bot.AuditBroadcastCancel, bot.AuditEntry{Detail: id})
	return nil
}

// The pages.

// broadcastView is what the broadcasts' pages show.
type broadcastView struct {
	List []broadcastRow
	One  *broadcastRow
	// The form's (new, preview):
	Form                       broadcastForm
	Audiences, Channels, Langs []choice
	Preview                    *broadcastPreview
}

// broadcastRow is a broadcast laid out for a page.
type broadcastRow struct {
	broadcastJSON
	Phase, PhaseLabel, AudienceLabel string
	Done                             int64
	Bar                              int
	PercentLabel, RateLabel, Left    string
	Cancellable                      bool
	// Skips are the reasons recipients were skipped for, with their counts.
	Skips []skipCount
}

// skipCount is one reason recipients were skipped for, and how many.
type skipCount struct {
	Label string
	N     int64
}

// broadcastForm is the form as typed (kept when refused, carried by the preview).
type broadcastForm struct{ ID, Audience, Channel, Lang, VI, EN, At string }

// broadcastPreview is the broadcast as its citizens will read it.
type broadcastPreview struct {
	Reach         int64
	When          string // "" for at once
	AudienceLabel string
	// VI and EN are the texts each language reads (EN falls back to VI, said by
	// Fallback); ShowVI and ShowEN, the languages the audience has.
	VI, EN         string
	Fallback       bool
	ShowVI, ShowEN bool
}

// broadcastFlash are the notices of the broadcasts' pages, after a redirect.
var broadcastFlash = map[string]string{
	"created": "console.broadcasts.done.created", "cancelled": "console.broadcasts.done.cancelled",
}

// skipMsg says why recipients were skipped, by bot's Skip constant.
var skipMsg = map[string]string{
	bot.SkipStopped: "console.broadcasts.skip.stopped", bot.SkipBlocked: "console.broadcasts.skip.blocked",
	bot.SkipUnfollowed: "console.broadcasts.skip.unfollowed", bot.SkipZaloWindow: "console.broadcasts.skip.zalo_window",
	bot.SkipErased: "console.broadcasts.skip.erased",
}

// phaseMsg names a broadcast's phase: scheduled, sending (its fan-out runs, or its
// messages are still going out of the bulk lanes), finished or cancelled.
var phaseMsg = map[string]string{
	"scheduled": "console.broadcasts.phase.scheduled", "sending": "console.broadcasts.phase.sending",
	"finished": "console.broadcasts.phase.finished", "cancelled": "console.broadcasts.phase.cancelled",
}

func phase(j broadcastJSON) string {
	switch bot.BroadcastState(j.State) {
	case bot.BroadcastScheduled:
		return "scheduled"
	case bot.BroadcastCancelled:
		return "cancelled"
	case bot.BroadcastQueued:
		if j.Progress.Finished {
			return "finished"
		}
	}
	return "sending"
}

// broadcastRow lays j out in l's language.
func (s *Server) broadcastRow(j broadcastJSON, l *locales.Localizer, lang string) broadcastRow {
	p := j.Progress
	row := broadcastRow{broadcastJSON: j, Phase: phase(j), Done: p.done(), Bar: barPct(p.Percent),
		PercentLabel: percent(p.Percent, lang)}
	row.PhaseLabel = l.T(phaseMsg[row.Phase])
	q, _ := bot.ParseAudience(j.Audience)
	q.Channel, q.Lang = bot.Channel(j.Channel), j.Lang
	row.AudienceLabel = s.audienceLabel(q, l, lang)
	row.Cancellable = j.State == string(bot.BroadcastScheduled) || j.State == string(bot.BroadcastSending)
	if p.Rate > 0 {
		row.RateLabel = l.T("console.broadcasts.rate", map[string]any{"Rate": decimal(p.Rate, lang)})
	}
	if p.LeftSeconds != nil {
		row.Left = humanDuration(time.Duration(*p.LeftSeconds)*time.Second, l)
	}
	for _, r := range bot.SkipReasons() {
		if n := p.SkippedBy[r]; n > 0 {
			row.Skips = append(row.Skips, skipCount{Label: l.T(skipMsg[r]), N: n})
		}
	}
	return row
}

// audienceLabel names an audience as the page does: whom, then the channel and the
// language when it is narrowed to one.
func (s *Server) audienceLabel(q bot.AudienceQuery, l *locales.Localizer, lang string) string {
	name := map[string]any{"Program": s.programName(q.Program, lang)}
	var out string
	switch q.Kind {
	case bot.AudienceProgram:
		out = l.T("console.broadcasts.audience.program", name)
	case bot.AudienceDraft:
		out = l.T("console.broadcasts.audience.draft", name)
	case bot.AudienceAll:
		out = l.T("console.broadcasts.audience.all")
	default:
		out = l.T("console.broadcasts.audience.subscribed")
	}
	if q.Channel != "" {
		out += " · " + channelLabel(string(q.Channel), l)
	}
	switch q.Lang {
	case locales.VI:
		out += " · " + l.T("console.broadcasts.lang.vi")
	case locales.EN:
		out += " · " + l.T("console.broadcasts.lang.en")
	}
	return out
}

// decimal writes x with one decimal, a comma in Vietnamese.
func decimal(x float64, lang string) string {
	out := strconv.FormatFloat(x, 'f', 1, 64)
	if lang != locales.EN {
		out = strings.Replace(out, ".", ",", 1)
	}
	return out
}

// broadcastPageView starts a broadcasts page's view: its title and notice.
func (s *Server) broadcastPageView(w http.ResponseWriter, r *http.Request, page string, c caller, titleID string) view {
	v := s.newView(w, r, page, c)
	v.Title, v.Broadcast = s.cat.For(v.Lang).T(titleID), &broadcastView{}
	if id, ok := broadcastFlash[r.URL.Query().Get("flash")]; ok {
		v.Flash, v.FlashKind = s.cat.For(v.Lang).T(id), "ok"
	}
	if r.URL.Query().Get("error") == "not_cancellable" {
		s.refuse(&v, "console.broadcasts.error.not_cancellable")
	}
	return v
}

func (s *Server) broadcastsPage(w http.ResponseWriter, r *http.Request, c caller) {
	v := s.broadcastPageView(w, r, "broadcasts", c, "console.broadcasts.title")
	list, err := s.listBroadcasts(r.Context())
	if err != nil {
		s.log.Error("broadcasts", "err", err)
		s.errorPage(w, r, c, http.StatusServiceUnavailable, "console.unavailable")
		return
	}
	l := s.cat.For(v.Lang)
	for _, j := range list {
		row := s.broadcastRow(j, l, v.Lang)
		if row.Phase == "sending" {
			v.Refresh = BroadcastRefresh
		}
		v.Broadcast.List = append(v.Broadcast.List, row)
	}
	s.render(w, http.StatusOK, "broadcasts", v)
}

func (s *Server) broadcastPage(w http.ResponseWriter, r *http.Request, c caller) {
	v := s.broadcastPageView(w, r, "broadcast", c, "console.broadcasts.one")
	j, ok, err := s.oneBroadcast(r.Context(), r.PathValue("id"))
	switch {
	case err != nil:
		s.log.Error("broadcast", "err", err)
		s.errorPage(w, r, c, http.StatusServiceUnavailable, "console.unavailable")
		return
	case !ok:
		s.errorPage(w, r, c, http.StatusNotFound, "console.broadcasts.error.unknown")
		return
	}
	row := s.broadcastRow(j, s.cat.For(v.Lang), v.Lang)
	v.Broadcast.One, v.Title = &row, v.Title+" "+j.ID
	if row.Phase == "sending" {
		v.Refresh = BroadcastRefresh
	}
	s.render(w, http.StatusOK, "broadcast", v)
}

func (s *Server) broadcastNewPage(w http.ResponseWriter, r *http.Request, c caller) {
	v := s.broadcastPageView(w, r, "broadcastnew", c, "console.broadcasts.new")
	v.Broadcast.Form = broadcastForm{Audience: string(bot.AudienceSubscribed)}
	s.formChoices(&v)
	s.render(w, http.StatusOK, "broadcastnew", v)
}

// formChoices fills in what the form's selects offer.
func (s *Server) formChoices(v *view) {
	l := s.cat.For(v.Lang)
	bv := v.Broadcast
	bv.Audiences = []choice{{string(bot.AudienceSubscribed), l.T("console.broadcasts.audience.subscribed")}}
	for _, p := range s.cfg.Programs.Programs() {
		name := map[string]any{"Program": p.Name.In(v.Lang)}
		bv.Audiences = append(bv.Audiences, choice{"program:" + p.ID, l.T("console.broadcasts.audience.program", name)},
			choice{"draft:" + p.ID, l.T("console.broadcasts.audience.draft", name)})
	}
	bv.Channels = []choice{{"", l.T("console.broadcasts.every_channel")}}
	for _, ch := range bot.AudienceChannels() {
		bv.Channels = append(bv.Channels, choice{string(ch), channelLabel(string(ch), l)})
	}
	bv.Langs = []choice{{"", l.T("console.broadcasts.both_langs")}, {locales.VI, l.T("console.broadcasts.lang.vi")},
		{locales.EN, l.T("console.broadcasts.lang.en")}}
}

// readForm reads the form of the new page and the preview's confirmation.
func readForm(r *http.Request) broadcastForm {
	f := r.PostForm
	return broadcastForm{ID: f.Get("id"), Audience: f.Get("audience"), Channel: f.Get("channel"), Lang: f.Get("lang"),
		VI: f.Get("text_vi"), EN: f.Get("text_en"), At: strings.TrimSpace(f.Get("at"))}
}

// fromForm makes the broadcast of a form.
func (s *Server) fromForm(f broadcastForm, by string) (bot.Broadcast, error) {
	var at time.Time
	if f.At != "" {
		var err error
		if at, err = time.ParseInLocation("2006-01-02T15:04", f.At, zone()); err != nil {
			if at, err = time.ParseInLocation("2006-01-02T15:04:05", f.At, zone()); err != nil {
				return bot.Broadcast{}, &broadcastRefusal{"bad time", "console.broadcasts.error.at"}
			}
		}
	}
	if f.ID != "" && !bot.IsBroadcastID(f.ID) {
		return bot.Broadcast{}, &broadcastRefusal{"bad id", "console.error.filter"}
	}
	return s.makeBroadcast(broadcastInput{Audience: f.Audience, Channel: f.Channel, Lang: f.Lang,
		Text: bot.Text{VI: f.VI, EN: f.EN}}, f.ID, by, at)
}

// refusedForm shows the form again, as typed, with why it was refused.
func (s *Server) refusedForm(w http.ResponseWriter, v view, msgID string) {
	s.refuse(&v, msgID)
	s.formChoices(&v)
	s.render(w, http.StatusBadRequest, "broadcastnew", v)
}

// broadcastPreviewPage shows the broadcast as its citizens will read it, and how many
// it reaches, with a confirmation that makes it under the id chosen here: a
// confirmation sent twice makes one broadcast.
func (s *Server) broadcastPreviewPage(w http.ResponseWriter, r *http.Request, c caller) {
	v := s.broadcastPageView(w, r, "broadcastnew", c, "console.broadcasts.preview")
	f := readForm(r)
	f.ID = ""
	v.Broadcast.Form = f
	st := s.broadcasts()
	b, err := s.fromForm(f, c.member.Email)
	var refused *broadcastRefusal
	if errors.As(err, &refused) {
		s.refusedForm(w, v, refused.msgID)
		return
	}
	var reach int64
	if err == nil && st == nil {
		err = errNoBroadcasts
	}
	if err == nil {
		reach, err = st.AudienceCount(r.Context(), b.Recipients())
	}
	if err != nil {
		s.log.Error("broadcast preview", "err", err)
		s.errorPage(w, r, c, http.StatusServiceUnavailable, "console.unavailable")
		return
	}
	l := s.cat.For(v.Lang)
	v.Broadcast.Form.ID = b.ID
	p := &broadcastPreview{Reach: reach, AudienceLabel: s.audienceLabel(b.Audience, l, v.Lang),
		VI: b.Text.In(locales.VI), EN: b.Text.In(locales.EN), Fallback: b.Text.EN == "",
		ShowVI: b.Audience.Lang != locales.EN, ShowEN: b.Audience.Lang != locales.VI}
	if f.At != "" {
		p.When = when(b.At)
	}
	v.Broadcast.Preview = p
	s.formChoices(&v)
	s.render(w, http.StatusOK, "broadcastnew", v)
}

// broadcastCreatePage makes the broadcast a preview showed.
func (s *Server) broadcastCreatePage(w http.ResponseWriter, r *http.Request, c caller) {
	v := s.broadcastPageView(w, r, "broadcastnew", c, "console.broadcasts.new")
	f := readForm(r)
	v.Broadcast.Form = f
	if f.ID == "" {
		// Only a preview's confirmation makes one: the admin has seen what goes out.
		s.refusedForm(w, v, "console.broadcasts.error.preview_first")
		return
	}
	b, err := s.fromForm(f, c.member.Email)
	var refused *broadcastRefusal
	if errors.As(err, &refused) {
		v.Broadcast.Form.ID = ""
		s.refusedForm(w, v, refused.msgID)
		return
	}
	back := Prefix + "broadcasts/" + url.PathEscape(b.ID)
	st := s.broadcasts()
	if err == nil && st == nil {
		err = errNoBroadcasts
	}
	if err == nil {
		if _, err := st.Broadcast(r.Context(), b.ID); err == nil {
			http.Redirect(w, r, back, http.StatusSeeOther) // confirmed twice: the first made it
			return
		}
		_, err = s.create(r, st, c.member, b)
	}
	switch {
	case err != nil:
		s.log.Error("broadcast create", "err", err)
		s.errorPage(w, r, c, http.StatusServiceUnavailable, "console.unavailable")
	default:
		http.Redirect(w, r, back+"?flash=created", http.StatusSeeOther)
	}
}

func (s *Server) broadcastCancelPage(w http.ResponseWriter, r *http.Request, c caller) {
	id := r.PathValue("id")
	back := Prefix + "broadcasts/" + url.PathEscape(id)
	err := s.cancel(r, c.member, id)
	switch {
	case errors.Is(err, bot.ErrUnknownBroadcast):
		s.errorPage(w, r, c, http.StatusNotFound, "console.broadcasts.error.unknown")
	case errors.Is(err, bot.ErrNotCancellable):
		http.Redirect(w, r, back+"?error=not_cancellable", http.StatusSeeOther)
	case err != nil:
		s.log.Error("broadcast cancel", "err", err)
		s.errorPage(w, r, c, http.StatusServiceUnavailable, "console.unavailable")
	default:
		http.Redirect(w, r, back+"?flash=cancelled", http.StatusSeeOther)
	}
}
