package console

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/sangkien/sangkien/bot"
)

// This file holds the admins' records: the audit trail of staff actions and the
// canned answers operators pick from.

// AuditTrail keeps staff actions: redisstore.Audit.
type AuditTrail interface {
	Record(ctx context.Context, e bot.AuditEntry) error
	List(ctx context.Context, q bot.AuditQuery) ([]bot.AuditEntry, string, error)
}

// CannedAnswers are the answers operators pick from: redisstore.Canned.
type CannedAnswers interface {
	List(ctx context.Context) ([]bot.CannedAnswer, error)
	Put(ctx context.Context, a bot.CannedAnswer) error
	Delete(ctx context.Context, id string) error
}

// audit records one staff action. A failure is logged, not shown: the action itself
// has happened, and the log says which record is missing.
func (s *Server) audit(r *http.Request, who, action string, e bot.AuditEntry) {
	e.Staff, e.Action, e.Addr, e.At = who, action, s.clientAddr(r), s.cfg.Now()
	if strings.HasPrefix(r.Header.Get("Authorization"), "Bearer ") {
		e.Via = bot.AuditViaToken
	}
	if err := s.cfg.Audit.Record(context.WithoutCancel(r.Context()), e); err != nil {
		s.log.Error("audit record lost", "action", action, "staff", bot.MaskID(who), "err", err)
	}
}

// actionDetail is what the audit keeps of an action's input: never a reply's words
// (personal data belongs in the transcript, which expires), only their length.
func actionDetail(action string, in actionInput) string {
	switch action {
	case "reply", "note":
		return strconv.Itoa(len([]rune(in.Text))) + " characters"
	case "assign":
		return bot.NormalizeEmail(in.Email)
	}
	return ""
}

func (s *Server) apiAudit(w http.ResponseWriter, r *http.Request, _ bot.StaffMember) {
	v := r.URL.Query()
	q := bot.AuditQuery{Before: v.Get("before"), Staff: v.Get("staff"), Action: v.Get("action"), Conversation: v.Get("conversation")}
	if l := v.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > 500 {
			writeError(w, http.StatusBadRequest, "limit must be 1 to 500")
			return
		}
		q.Limit = n
	}
	entries, next, err := s.cfg.Audit.List(r.Context(), q)
	switch {
	case errors.Is(err, bot.ErrBadAuditCursor):
		writeError(w, http.StatusBadRequest, "before is not a cursor this trail gave out")
	case err != nil:
		s.storeFailed(w, "audit", err)
	default:
		if entries == nil {
			entries = []bot.AuditEntry{}
		}
		writeJSON(w, http.StatusOK, map[string]any{"entries": entries, "next": next})
	}
}

func (s *Server) apiCanned(w http.ResponseWriter, r *http.Request, _ bot.StaffMember) {
	list, err := s.cfg.Canned.List(r.Context())
	if err != nil {
		s.storeFailed(w, "canned", err)
		return
	}
	if list == nil {
		list = []bot.CannedAnswer{}
	}
	writeJSON(w, http.StatusOK, list)
}

func (s *Server) apiCannedPut(w http.ResponseWriter, r *http.Request, m bot.StaffMember) {
	var a bot.CannedAnswer
	if err := decodeJSON(r.Body, &a); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	a.ID, a.UpdatedBy, a.UpdatedAt = r.PathValue("id"), m.Email, s.cfg.Now()
	if err := a.Validate(); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if err := s.cfg.Canned.Put(r.Context(), a); err != nil {
		s.storeFailed(w, "canned put", err)
		return
	}
	s.audit(r, m.Email, bot.AuditCannedPut, bot.AuditEntry{Detail: a.ID})
	writeJSON(w, http.StatusOK, a)
}

func (s *Server) apiCannedDelete(w http.ResponseWriter, r *http.Request, m bot.StaffMember) {
	id := r.PathValue("id")
	err := s.cfg.Canned.Delete(r.Context(), id)
	switch {
	case errors.Is(err, bot.ErrUnknownCanned):
		writeError(w, http.StatusNotFound, "no canned answer has this id")
	case err != nil:
		s.storeFailed(w, "canned delete", err)
	default:
		s.audit(r, m.Email, bot.AuditCannedDelete, bot.AuditEntry{Detail: id})
		writeJSON(w, http.StatusOK, map[string]string{"id": id, "deleted": "true"})
	}
}

// cannedFor are the canned answers in the citizen's language, their placeholders
// filled from the conversation.
func (s *Server) cannedFor(ctx context.Context, c conversationJSON) []cannedView {
	list, err := s.cfg.Canned.List(ctx)
	if err != nil {
		s.log.Warn("canned answers", "err", err)
		return nil
	}
	vars := map[string]string{"name": c.Name, "reference": c.Reference}
	out := make([]cannedView, 0, len(list))
	for _, a := range list {
		out = append(out, cannedView{Title: a.Title, Text: a.Render(c.Lang, vars)})
	}
	return out
}
