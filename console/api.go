package console

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	json "github.com/go-json-experiment/json/v1"

	"github.com/sangkien/sangkien/bot"
)

// ReplyMax is the longest reply or note staff may write, in characters.
const ReplyMax = 4000

// conversationJSON is one conversation as the API lists it.
type conversationJSON struct {
	Key      string `json:"key"`
	Channel  string `json:"channel"`
	Lang     string `json:"lang"`
	Status   string `json:"status"`
	Reason   string `json:"reason,omitempty"`
	Assignee string `json:"assignee"`
	Human    bool   `json:"human"`
	// WaitingSince and Due are the response clock's start and end (waiting only);
	// Clock is how it stands: on_time, near or late.
	WaitingSince *time.Time `json:"waiting_since"`
	Due          *time.Time `json:"due"`
	Clock        string     `json:"clock,omitempty"`
	// ResolveDue is the resolution clock's end, while a case is open.
	ResolveDue *time.Time `json:"resolve_due,omitempty"`
	Program    string     `json:"program,omitempty"`
	Reference  string     `json:"reference,omitempty"`
	Name       string     `json:"name,omitempty"`
	LastText   string     `json:"last_text"`
	LastAt     *time.Time `json:"last_at,omitempty"`
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	t = t.In(zone())
	return &t
}

// row is a card with its clocks as they stand now.
func (s *Server) row(c bot.Card) conversationJSON {
	out := conversationJSON{
		Key: c.Conversation.Key(), Channel: string(c.Conversation.Channel), Lang: c.Lang,
		Status: string(c.Status), Reason: c.Reason, Assignee: c.Assignee, Human: c.Human,
		Program: c.Program, Reference: c.Reference, Name: c.Name, LastText: c.LastText, LastAt: timePtr(c.LastAt),
	}
	if out.Lang == "" {
		out.Lang = "vi"
	}
	t := s.cfg.Targets
	if c.Status == bot.DeskWaiting && !c.WaitingSince.IsZero() {
		k := s.calendar().Clock(c.WaitingSince, s.cfg.Now(), t.FirstAnswer, t.Near)
		out.WaitingSince, out.Due, out.Clock = timePtr(c.WaitingSince), timePtr(k.Due), string(k.State)
	}
	if c.Status != bot.DeskResolved && !c.Opened.IsZero() {
		out.ResolveDue = timePtr(s.calendar().Add(c.Opened, t.Resolution))
	}
	return out
}

// inboxQuery reads the list's filters. No status gives the inbox's order: waiting,
// then open conversations assigned to the caller, then the other open ones.
func inboxQuery(r *http.Request) (bot.InboxQuery, string, int, error) {
	v := r.URL.Query()
	q := bot.InboxQuery{Channel: bot.Channel(v.Get("channel")), Lang: v.Get("lang"), Program: v.Get("program"), Assignee: v.Get("assignee")}
	if st := v.Get("status"); st != "" {
		var err error
		if q.Status, err = bot.ParseDeskStatus(st); err != nil {
			return q, "", 0, err
		}
	}
	switch q.Channel {
	case "", bot.Telegram, bot.Zalo, bot.Web, bot.Terminal:
	default:
		return q, "", 0, fmt.Errorf("unknown channel %q", q.Channel)
	}
	limit := 100
	if l := v.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > 500 {
			return q, "", 0, errors.New("limit must be 1 to 500")
		}
		limit = n
	}
	return q, strings.TrimSpace(v.Get("q")), limit, nil
}

// list is the cards the inbox shows for q and the caller me.
func (s *Server) list(ctx context.Context, q bot.InboxQuery, search string, limit int, me string) ([]bot.Card, error) {
	if search != "" {
		return s.search(ctx, search)
	}
	if q.Assignee == "me" {
		q.Assignee = me
	}
	if q.Status != "" || q.Assignee != "" {
		q.Limit = limit
		return s.cfg.Conversations.Conversations(ctx, q)
	}
	var out []bot.Card
	seen := map[string]bool{}
	for _, part := range []bot.InboxQuery{{Status: bot.DeskWaiting}, {Status: bot.DeskOpen, Assignee: me}, {Status: bot.DeskOpen}} {
		if len(out) >= limit {
			break
		}
		part.Channel, part.Lang, part.Program, part.Limit = q.Channel, q.Lang, q.Program, limit
		cs, err := s.cfg.Conversations.Conversations(ctx, part)
		if err != nil {
			return nil, err
		}
		for _, c := range cs {
			if k := c.Conversation.Key(); !seen[k] && len(out) < limit {
				seen[k] = true
				out = append(out, c)
			}
		}
	}
	return out, nil
}

// search finds the conversation of a reference code ("SK-2026-000123") or a key.
func (s *Server) search(ctx context.Context, term string) ([]bot.Card, error) {
	ref, err := bot.ParseConversationKey(term)
	if err != nil {
		sub, lerr := s.cfg.Conversations.LookupReference(ctx, strings.ToUpper(term))
		if errors.Is(lerr, bot.ErrUnknownSubmission) {
			return nil, nil
		}
		if lerr != nil {
			return nil, lerr
		}
		ref = sub.Conversation
	}
	c, ok, err := s.cfg.Conversations.Card(ctx, ref)
	if err != nil || !ok {
		return nil, err
	}
	return []bot.Card{c}, nil
}

func (s *Server) apiConversations(w http.ResponseWriter, r *http.Request, m bot.StaffMember) {
	q, search, limit, err := inboxQuery(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	cards, err := s.list(r.Context(), q, search, limit, m.Email)
	if err != nil {
		s.storeFailed(w, "conversations", err)
		return
	}
	rows := make([]conversationJSON, 0, len(cards))
	for _, c := range cards {
		rows = append(rows, s.row(c))
	}
	writeJSON(w, http.StatusOK, rows)
}

// conversationDetail is one conversation with everything an operator reads.
type conversationDetail struct {
	conversationJSON
	Transcript  []transcriptLine        `json:"transcript"`
	Draft       *bot.Draft              `json:"draft"`
	Flow        string                  `json:"flow,omitempty"`
	Step        string                  `json:"step,omitempty"`
	Submissions []bot.SubmissionSummary `json:"submissions"`
}

// transcriptLine is a transcript entry, the links to its files (in the order of its
// attachments; "" for one that cannot be linked) and, for what a console action sent
// the citizen, what became of it.
type transcriptLine struct {
	bot.TranscriptEntry
	Links    []string           `json:"links,omitempty"`
	Delivery *bot.DeliveryState `json:"delivery,omitempty"`
}

// file is one attachment as the page shows it.
type file struct {
	bot.Attachment
	Link string
}

// Files pairs the line's attachments with their links.
func (l transcriptLine) Files() []file {
	out := make([]file, len(l.Attachments))
	for i, a := range l.Attachments {
		out[i].Attachment = a
		if i < len(l.Links) {
			out[i].Link = l.Links[i]
		}
	}
	return out
}

// lines pairs the transcript's entries with their files' links and their replies'
// states: a console reply without one is still queued.
func (s *Server) lines(conv bot.ConversationRef, entries []bot.TranscriptEntry, states map[string]bot.DeliveryState) []transcriptLine {
	out := make([]transcriptLine, len(entries))
	for i, e := range entries {
		out[i].TranscriptEntry = e
		if s.cfg.MediaLink != nil && len(e.Attachments) > 0 {
			out[i].Links = make([]string, len(e.Attachments))
			for j, a := range e.Attachments {
				link, err := s.cfg.MediaLink(conv.Channel, a)
				if err != nil {
					s.log.Warn("a file of the transcript cannot be linked", "conversation", bot.MaskID(conv.Key()), "err", err)
					continue
				}
				out[i].Links[j] = link
			}
		}
		if e.Dir != bot.Outgoing || !strings.HasPrefix(e.EventID, eventPrefix) || !strings.Contains(e.EventID, "/") {
			continue
		}
		st, ok := states[e.EventID]
		if !ok {
			st = bot.DeliveryState{State: bot.DeliveryQueued}
		}
		out[i].Delivery = &st
	}
	return out
}

// detail loads a conversation; ok is false when the inbox does not know it.
func (s *Server) detail(ctx context.Context, key string) (conversationDetail, bool, error) {
	ref, err := bot.ParseConversationKey(key)
	if err != nil {
		return conversationDetail{}, false, nil
	}
	c, ok, err := s.cfg.Conversations.Card(ctx, ref)
	if err != nil || !ok {
		return conversationDetail{}, false, err
	}
	d := conversationDetail{conversationJSON: s.row(c), Submissions: []bot.SubmissionSummary{}}
	lines, err := s.cfg.Conversations.Transcript(ctx, ref, 0)
	if err != nil {
		return d, false, err
	}
	sent, err := s.cfg.Conversations.Deliveries(ctx, ref)
	if err != nil {
		return d, false, err
	}
	d.Transcript = s.lines(ref, lines, sent)
	sess, err := s.cfg.Conversations.Session(ctx, ref)
	if err != nil {
		return d, false, err
	}
	if sess != nil {
		d.Draft, d.Flow, d.Step = sess.State.Draft, sess.State.Flow, sess.State.Step
		if len(sess.Profile.Submissions) > 0 {
			d.Submissions = sess.Profile.Submissions
		}
	}
	return d, true, nil
}

func (s *Server) apiConversation(w http.ResponseWriter, r *http.Request, _ bot.StaffMember) {
	d, ok, err := s.detail(r.Context(), r.PathValue("key"))
	switch {
	case err != nil:
		s.storeFailed(w, "conversation", err)
	case !ok:
		writeError(w, http.StatusNotFound, "no such conversation")
	default:
		writeJSON(w, http.StatusOK, d)
	}
}

// actionInput is the body of a console action: {"text": …} or {"email": …}, as JSON
// or as a form.
type actionInput struct {
	Text  string `json:"text"`
	Email string `json:"email"`
}

// decodeJSON reads one JSON object into v, strictly: no field v does not have, nothing
// after it. An empty body is an empty object (an action without arguments).
func decodeJSON(body io.Reader, v any) error {
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err == io.EOF {
		return nil
	} else if err != nil {
		return fmt.Errorf("the body is not the JSON expected: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("the body is not the JSON expected: more after the object")
	}
	return nil
}

// readBody reads a request's input: JSON when it says so (decodeJSON), else its form
// (fromForm); an empty body without a type is the zero input. apiAuth and pageBody
// have bounded the body already.
func readBody[T any](r *http.Request, fromForm func(*http.Request) T) (T, error) {
	var in T
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch {
	case ct == "application/json":
		return in, decodeJSON(r.Body, &in)
	case r.ContentLength == 0 && ct == "":
		return in, nil
	}
	return fromForm(r), nil
}

func readInput(r *http.Request) (actionInput, error) {
	return readBody(r, func(r *http.Request) actionInput {
		return actionInput{Text: r.PostFormValue("text"), Email: r.PostFormValue("email")}
	})
}

// actionError is a refused action, with its HTTP status.
type actionError struct {
	status int
	msg    string
	heldBy string
}

func (e *actionError) Error() string { return e.msg }

// act runs one console action on the conversation key as m, and returns the
// conversation's card after it.
func (s *Server) act(ctx context.Context, m bot.StaffMember, key, action string, in actionInput) (bot.Card, error) {
	ref, err := bot.ParseConversationKey(key)
	if err != nil {
		return bot.Card{}, &actionError{status: http.StatusNotFound, msg: "no such conversation"}
	}
	if _, ok, err := s.cfg.Conversations.Card(ctx, ref); err != nil || !ok {
		if err != nil {
			return bot.Card{}, err
		}
		return bot.Card{}, &actionError{status: http.StatusNotFound, msg: "no such conversation"}
	}
	ev := bot.Event{ID: eventID(), Conversation: ref, Staff: m.Name, StaffEmail: m.Email, At: s.cfg.Now()}
	switch action {
	case "takeover":
		ev.Kind = bot.EventStaffJoin
	case "handback":
		ev.Kind = bot.EventStaffHandback
	case "resolve":
		ev.Kind = bot.EventStaffResolve
	case "reply", "note":
		ev.Kind, ev.Text = bot.EventStaffReply, strings.TrimSpace(in.Text)
		if action == "note" {
			ev.Kind = bot.EventStaffNote
		}
		if ev.Text == "" || utf8.RuneCountInString(ev.Text) > ReplyMax || !utf8.ValidString(ev.Text) {
			return bot.Card{}, &actionError{status: http.StatusBadRequest, msg: fmt.Sprintf("text must be 1 to %d characters", ReplyMax)}
		}
	case "assign":
		to, err := s.cfg.Sessions.Get(ctx, bot.NormalizeEmail(in.Email))
		if errors.Is(err, bot.ErrUnknownStaff) || (err == nil && to.Disabled) {
			return bot.Card{}, &actionError{status: http.StatusBadRequest, msg: "email must name an active staff account"}
		}
		if err != nil {
			return bot.Card{}, err
		}
		ev.Kind, ev.Payload = bot.EventStaffAssign, to.Email
	}
	if _, err := s.cfg.Engine.Handle(ctx, ev); err != nil {
		var held *bot.HeldError
		if errors.As(err, &held) {
			return bot.Card{}, &actionError{status: http.StatusConflict, msg: "the conversation is held by " + held.By, heldBy: held.By}
		}
		return bot.Card{}, err
	}
	s.log.Info("console action", "action", action, "staff", bot.MaskID(m.Email), "conversation", bot.MaskID(key))
	c, _, err := s.cfg.Conversations.Card(ctx, ref)
	return c, err
}

// actAndAudit runs an action and records it when it happened.
func (s *Server) actAndAudit(r *http.Request, m bot.StaffMember, action string, in actionInput) (bot.Card, error) {
	key := r.PathValue("key")
	c, err := s.act(r.Context(), m, key, action, in)
	if err == nil {
		s.audit(r, m.Email, action, bot.AuditEntry{Conversation: key, Detail: actionDetail(action, in)})
	}
	return c, err
}

func (s *Server) apiAction(action string) func(http.ResponseWriter, *http.Request, bot.StaffMember) {
	return func(w http.ResponseWriter, r *http.Request, m bot.StaffMember) {
		in, err := readInput(r)
		if err != nil {
			writeError(w, http.StatusBadRequest, err.Error())
			return
		}
		c, err := s.actAndAudit(r, m, action, in)
		var ae *actionError
		switch {
		case errors.As(err, &ae) && ae.heldBy != "":
			writeJSON(w, ae.status, map[string]string{"error": ae.msg, "held_by": ae.heldBy})
		case errors.As(err, &ae):
			writeError(w, ae.status, ae.msg)
		case err != nil:
			s.storeFailed(w, action, err)
		default:
			writeJSON(w, http.StatusOK, s.row(c))
		}
	}
}

// submissionJSON is a refused submission as the API lists it.
type submissionJSON struct {
	ID        string    `json:"id"`
	Reference string    `json:"reference"`
	Key       string    `json:"key"`
	Title     string    `json:"title"`
	State     string    `json:"state"`
	Reason    string    `json:"reason"`
	Code      int       `json:"code,omitempty"`
	Attempts  int       `json:"attempts"`
	At        time.Time `json:"at"`
}

func (s *Server) apiSubmissions(w http.ResponseWriter, r *http.Request, _ bot.StaffMember) {
	if st := r.URL.Query().Get("state"); st != "" && st != "refused" {
		writeError(w, http.StatusBadRequest, "state must be refused")
		return
	}
	failed, err := s.cfg.Submissions.FailedSubmissions(r.Context())
	if err != nil {
		s.storeFailed(w, "submissions", err)
		return
	}
	out := make([]submissionJSON, 0, len(failed))
	for _, f := range failed {
		out = append(out, submissionJSON{
			ID: f.Submission.ID, Reference: f.Submission.Reference, Key: f.Submission.Conversation.Key(),
			Title: f.Submission.Title, State: "refused", Reason: f.Body, Code: f.Code, Attempts: f.Attempts, At: f.At.In(zone()),
		})
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) apiResend(w http.ResponseWriter, r *http.Request, m bot.StaffMember) {
	id := r.PathValue("id")
	err := s.cfg.Submissions.RetryFailed(r.Context(), id)
	switch {
	case errors.Is(err, bot.ErrUnknownSubmission):
		writeError(w, http.StatusNotFound, "no refused submission has this id")
	case err != nil:
		s.storeFailed(w, "resend", err)
	default:
		s.log.Info("submission resent", "staff", bot.MaskID(m.Email), "submission", id)
		s.audit(r, m.Email, bot.AuditResend, bot.AuditEntry{Submission: id})
		writeJSON(w, http.StatusOK, map[string]string{"id": id, "state": "waiting"})
	}
}

func (s *Server) apiMe(w http.ResponseWriter, _ *http.Request, m bot.StaffMember) {
	writeJSON(w, http.StatusOK, map[string]string{"email": m.Email, "name": m.Name, "role": string(m.Role)})
}

// storeFailed answers a failure to read or write the store.
func (s *Server) storeFailed(w http.ResponseWriter, what string, err error) {
	s.log.Error(what, "err", err)
	writeError(w, http.StatusServiceUnavailable, "the console cannot reach its store; try again")
}

// zone is the city's time zone, in which the console shows times.
func zone() *time.Location { return bot.HoChiMinh() }
