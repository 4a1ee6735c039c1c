package console

import (
	"errors"
	"net/http"
	"strings"

	"github.com/sangkien/sangkien/bot"
)

// The canned answers page: every member of staff reads them, admins write them.

func (s *Server) cannedPage(w http.ResponseWriter, r *http.Request, c caller) {
	v := s.adminPage(w, r, "canned", c, "console.admin.canned.title")
	s.renderCanned(w, r, c, http.StatusOK, v)
}

func (s *Server) renderCanned(w http.ResponseWriter, r *http.Request, c caller, status int, v view) {
	list, err := s.cfg.Canned.List(r.Context())
	if err != nil {
		s.log.Error("canned", "err", err)
		s.errorPage(w, r, c, http.StatusServiceUnavailable, "console.unavailable")
		return
	}
	v.Admin.CannedList = list
	s.render(w, status, "canned", v)
}

// cannedPutPage saves the form's answer: a new one, or an edit of the one of its id.
func (s *Server) cannedPutPage(w http.ResponseWriter, r *http.Request, c caller) {
	a := bot.CannedAnswer{
		ID: strings.TrimSpace(r.PostFormValue("id")), Title: strings.TrimSpace(r.PostFormValue("title")),
		Text:      map[string]string{"vi": strings.TrimSpace(r.PostFormValue("vi"))},
		UpdatedBy: c.member.Email, UpdatedAt: s.cfg.Now(),
	}
	if en := strings.TrimSpace(r.PostFormValue("en")); en != "" {
		a.Text["en"] = en
	}
	if err := a.Validate(); err != nil {
		v := s.adminPage(w, r, "canned", c, "console.admin.canned.title")
		s.refuse(&v, "console.admin.canned.invalid")
		v.Admin.Form = &a
		s.renderCanned(w, r, c, http.StatusBadRequest, v)
		return
	}
	if err := s.cfg.Canned.Put(r.Context(), a); err != nil {
		s.log.Error("canned put", "err", err)
		s.errorPage(w, r, c, http.StatusServiceUnavailable, "console.unavailable")
		return
	}
	s.audit(r, c.member.Email, bot.AuditCannedPut, bot.AuditEntry{Detail: a.ID})
	http.Redirect(w, r, Prefix+"canned?flash=canned_saved", http.StatusSeeOther)
}

func (s *Server) cannedDeletePage(w http.ResponseWriter, r *http.Request, c caller) {
	id := r.PathValue("id")
	err := s.cfg.Canned.Delete(r.Context(), id)
	switch {
	case errors.Is(err, bot.ErrUnknownCanned):
		s.errorPage(w, r, c, http.StatusNotFound, "console.admin.canned.unknown")
	case err != nil:
		s.log.Error("canned delete", "err", err)
		s.errorPage(w, r, c, http.StatusServiceUnavailable, "console.unavailable")
	default:
		s.audit(r, c.member.Email, bot.AuditCannedDelete, bot.AuditEntry{Detail: id})
		http.Redirect(w, r, Prefix+"canned?flash=canned_deleted", http.StatusSeeOther)
	}
}
