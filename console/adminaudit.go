package console

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/sangkien/sangkien/bot"
)

// The audit page: the trail newest first, filtered by staff member, action and a
// range of days (in the city's time), paged by the trail's cursor.

// auditActions are the actions the page's filter offers.
var auditActions = []string{
	bot.AuditLogin, bot.AuditLoginFailed, bot.AuditTakeover, bot.AuditReply, bot.AuditNote, bot.AuditHandback,
	bot.AuditResolve, bot.AuditAssign, bot.AuditResend, bot.AuditStaffAdd, bot.AuditStaffDisable,
	bot.AuditStaffPassword, bot.AuditStaffToken, bot.AuditCannedPut, bot.AuditCannedDelete,
	AuditHolidayPut, AuditHolidayDelete, bot.AuditBroadcastCreate, bot.AuditBroadcastCancel,
	AuditProgramEdit, AuditProgramReset,
}

// auditActionMsg names the actions on the page.
var auditActionMsg = map[string]string{
	bot.AuditLogin: "console.admin.action.login", bot.AuditLoginFailed: "console.admin.action.login_failed",
	bot.AuditTakeover: "console.admin.action.takeover", bot.AuditReply: "console.admin.action.reply",
	bot.AuditNote: "console.admin.action.note", bot.AuditHandback: "console.admin.action.handback",
	bot.AuditResolve: "console.admin.action.resolve", bot.AuditAssign: "console.admin.action.assign",
	bot.AuditResend: "console.admin.action.resend", bot.AuditStaffAdd: "console.admin.action.staff_add",
	bot.AuditStaffDisable: "console.admin.action.staff_disable", bot.AuditStaffPassword: "console.admin.action.staff_password",
	bot.AuditStaffToken: "console.admin.action.staff_token", bot.AuditCannedPut: "console.admin.action.canned_put",
	bot.AuditCannedDelete: "console.admin.action.canned_delete", AuditHolidayPut: "console.admin.action.holiday_put",
	AuditHolidayDelete:       "console.admin.action.holiday_delete",
	bot.AuditBroadcastCreate: "console.broadcasts.action.create", bot.AuditBroadcastCancel: "console.broadcasts.action.cancel",
	AuditProgramEdit: "console.programs.action.edit", AuditProgramReset: "console.programs.action.reset",
}

// auditFilter is the page's form: a staff email, an action, the first and last days
// ("2026-12-01", both included), and the cursor of the page shown.
type auditFilter struct{ Staff, Action, From, To, Before string }

// auditPageSize is how many entries one page of the audit page shows.
const auditPageSize = 50

func (s *Server) auditPage(w http.ResponseWriter, r *http.Request, c caller) {
	v := s.adminPage(w, r, "audit", c, "console.admin.audit.title")
	qv := r.URL.Query()
	f := auditFilter{Staff: strings.TrimSpace(qv.Get("staff")), Action: qv.Get("action"),
		From: qv.Get("from"), To: qv.Get("to"), Before: qv.Get("before")}
	v.Admin.Query, v.Admin.Actions, v.Admin.ActionNames = f, auditActions, map[string]string{}
	for a, id := range auditActionMsg {
		v.Admin.ActionNames[a] = s.cat.For(v.Lang).T(id)
	}
	from, to, ok := auditDays(f.From, f.To)
	if !ok {
		s.refuse(&v, "console.admin.audit.bad_dates")
		s.render(w, http.StatusBadRequest, "audit", v)
		return
	}
	q := bot.AuditQuery{Before: f.Before, Staff: f.Staff, Action: f.Action, Limit: auditPageSize}
	entries, next, err := s.auditRange(r.Context(), q, from, to)
	if err != nil {
		if errors.Is(err, bot.ErrBadAuditCursor) {
			s.errorPage(w, r, c, http.StatusBadRequest, "console.error.filter")
			return
		}
		s.log.Error("audit", "err", err)
		s.errorPage(w, r, c, http.StatusServiceUnavailable, "console.unavailable")
		return
	}
	for i := range entries {
		entries[i].At = entries[i].At.In(zone())
	}
	v.Admin.Entries = entries
	link := func(before string) string {
		u := url.Values{}
		for k, val := range map[string]string{"staff": f.Staff, "action": f.Action, "from": f.From, "to": f.To, "before": before} {
			if val != "" {
				u.Set(k, val)
			}
		}
		return Prefix + "audit?" + u.Encode()
	}
	if next != "" {
		v.Admin.Next = link(next)
	}
	if f.Before != "" {
		v.Admin.Newest = link("")
	}
	s.render(w, http.StatusOK, "audit", v)
}

// auditDays reads a range of days in the city's time: from is the start of the first
// day, to the start of the day after the last (zero when not given).
func auditDays(first, last string) (from, to time.Time, ok bool) {
	day := func(s string) (time.Time, bool) {
		if s == "" {
			return time.Time{}, true
		}
		t, err := time.ParseInLocation(time.DateOnly, s, zone())
		return t, err == nil
	}
	from, ok1 := day(first)
	to, ok2 := day(last)
	if !to.IsZero() {
		to = to.AddDate(0, 0, 1)
	}
	return from, to, ok1 && ok2 && (from.IsZero() || to.IsZero() || from.Before(to))
}

// auditRange is one page of q between from and to (either zero for no bound). The
// trail's cursor is an entry's id, which redisstore.Audit makes of the entry's time
// ("<unix ms>-<seq>"): the end of the range starts the page at that time, and the
// first entry older than its start ends the listing.
func (s *Server) auditRange(ctx context.Context, q bot.AuditQuery, from, to time.Time) ([]bot.AuditEntry, string, error) {
	if !to.IsZero() {
		end := strconv.FormatInt(to.UnixMilli(), 10) + "-0"
		if q.Before == "" || cursorMillis(q.Before) > to.UnixMilli() {
			q.Before = end
		}
	}
	entries, next, err := s.cfg.Audit.List(ctx, q)
	if err != nil || from.IsZero() {
		return entries, next, err
	}
	for i, e := range entries {
		if e.At.Before(from) {
			return entries[:i], "", nil
		}
	}
	if next != "" && cursorMillis(next) < from.UnixMilli() {
		next = ""
	}
	return entries, next, nil
}

// cursorMillis is the time, in unix milliseconds, of an audit cursor; -1 when it is
// not one.
func cursorMillis(cursor string) int64 {
	ms, _, _ := strings.Cut(cursor, "-")
	n, err := strconv.ParseInt(ms, 10, 64)
	if err != nil {
		return -1
	}
	return n
}
