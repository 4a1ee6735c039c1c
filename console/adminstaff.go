package console

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/sangkien/sangkien/bot"
)

// StaffChanges changes staff accounts and writes each change to the audit trail: the
// console's staff page, its API and `sangkien staff` all go through it, so that no
// change of an account goes unrecorded. An entry names the account changed, never a
// password or a token.
type StaffChanges struct {
	Accounts Accounts
	Audit    AuditTrail
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

// Actor is who changes an account, and from where: a staff member's email and client
// address, or no email and CommandLine for `sangkien staff`.
type Actor struct{ Email, Addr string }

// CommandLine is the Addr of the changes made by `sangkien staff` (the audit page
// names it so).
const CommandLine = "command line"

var (
	// ErrOwnAccount: an admin tried to disable their own account (they would lock
	// themselves out, perhaps the last admin).
	ErrOwnAccount = errors.New("you cannot disable your own account")
	// ErrAuditLost: the change was made, but its audit record could not be written.
	ErrAuditLost = errors.New("the change was made but its audit record was lost")
	// ErrBadAccount: an email or a name an account cannot have.
	ErrBadAccount = errors.New("invalid account")
	// ErrLongPassword: a password longer than bcrypt reads (72 bytes).
	ErrLongPassword = errors.New("password too long: at most 72 bytes")
)

// Add creates an account.
func (sc StaffChanges) Add(ctx context.Context, by Actor, email, name string, role bot.Role, password string) error {
	email, name = bot.NormalizeEmail(email), strings.TrimSpace(name)
	if !bot.ValidEmail(email) {
		return fmt.Errorf("%w: %q is not an email address", ErrBadAccount, email)
	}
	if n := utf8.RuneCountInString(name); n < 2 || n > 100 {
		return fmt.Errorf("%w: the name must be 2 to 100 characters", ErrBadAccount)
	}
	if _, err := bot.ParseRole(string(role)); err != nil {
		return err
	}
	if len(password) > 72 {
		return ErrLongPassword
	}
	if err := sc.Accounts.Add(ctx, email, name, role, password); err != nil {
		return err
	}
	return sc.record(ctx, by, bot.AuditStaffAdd, email+" "+string(role))
}

// Disable disables an account: it can no longer log in, its sessions and its token
// end. Nobody disables their own account.
func (sc StaffChanges) Disable(ctx context.Context, by Actor, email string) error {
	email = bot.NormalizeEmail(email)
	if by.Email != "" && bot.NormalizeEmail(by.Email) == email {
		return ErrOwnAccount
	}
	if err := sc.Accounts.Store.Disable(ctx, email); err != nil {
		return err
	}
	return sc.record(ctx, by, bot.AuditStaffDisable, email)
}

// SetPassword gives an account a new password; its sessions end.
func (sc StaffChanges) SetPassword(ctx context.Context, by Actor, email, password string) error {
	email = bot.NormalizeEmail(email)
	if len(password) > 72 {
		return ErrLongPassword
	}
	if err := sc.Accounts.SetPassword(ctx, email, password); err != nil {
		return err
	}
	return sc.record(ctx, by, bot.AuditStaffPassword, email)
}

// NewToken issues a new API token for an account (the previous one stops working)
// and returns it: it is shown once, and only its hash is kept.
func (sc StaffChanges) NewToken(ctx context.Context, by Actor, email string) (string, error) {
	email = bot.NormalizeEmail(email)
	tok, err := sc.Accounts.Store.NewToken(ctx, email)
	if err != nil {
		return "", err
	}
	return tok, sc.record(ctx, by, bot.AuditStaffToken, email)
}

// record writes one change to the trail; its error wraps ErrAuditLost.
func (sc StaffChanges) record(ctx context.Context, by Actor, action, detail string) error {
	now := time.Now
	if sc.Now != nil {
		now = sc.Now
	}
	e := bot.AuditEntry{At: now(), Staff: by.Email, Action: action, Detail: detail, Addr: by.Addr}
	if err := sc.Audit.Record(context.WithoutCancel(ctx), e); err != nil {
		return fmt.Errorf("%w: %w", ErrAuditLost, err)
	}
	return nil
}

// staffChanges are the console's, made by the caller of r.
func (s *Server) staffChanges(r *http.Request, m bot.StaffMember) (StaffChanges, Actor) {
	return StaffChanges{Accounts: s.cfg.Accounts, Audit: s.cfg.Audit, Now: s.cfg.Now}, Actor{Email: m.Email, Addr: s.clientAddr(r)}
}

// staffJSON is an account as the API lists it: never a hash or a token.
type staffJSON struct {
	Email      string    `json:"email"`
	Name       string    `json:"name"`
	Role       bot.Role  `json:"role"`
	Disabled   bool      `json:"disabled"`
	HasToken   bool      `json:"has_token"`
	CreatedAt  time.Time `json:"created_at"`
	PasswordAt time.Time `json:"password_at"`
}

func staffOf(m bot.StaffMember) staffJSON {
	return staffJSON{Email: m.Email, Name: m.Name, Role: m.Role, Disabled: m.Disabled, HasToken: m.HasToken,
		CreatedAt: m.CreatedAt.In(zone()), PasswordAt: m.PasswordAt.In(zone())}
}

// staffInput is the body of an account change, as JSON or as a form.
type staffInput struct {
	Email    string `json:"email"`
	Name     string `json:"name"`
	Role     string `json:"role"`
	Password string `json:"password"`
}

func readStaffInput(r *http.Request) (staffInput, error) {
	in, err := readBody(r, func(r *http.Request) staffInput {
		return staffInput{Email: r.PostFormValue("email"), Name: r.PostFormValue("name"),
			Role: r.PostFormValue("role"), Password: r.PostFormValue("password")}
	})
	return in, err
}

// staffRefusal is how an account change was refused: an HTTP status, the API's
// message and the page's message id. ok is false for a store failure.
func staffRefusal(err error) (status int, msg, msgID string, ok bool) {
	switch {
	case errors.Is(err, ErrOwnAccount):
		return http.StatusConflict, err.Error(), "console.admin.staff.own", true
	case errors.Is(err, bot.ErrStaffExists):
		return http.StatusConflict, "an account with this email exists", "console.admin.staff.exists", true
	case errors.Is(err, bot.ErrUnknownStaff):
		return http.StatusNotFound, "no account has this email", "console.admin.staff.unknown", true
	case errors.Is(err, bot.ErrStaffDisabled):
		return http.StatusConflict, "the account is disabled", "console.admin.staff.disabled", true
	case errors.Is(err, bot.ErrUnknownRole):
		return http.StatusBadRequest, "role must be operator or admin", "console.admin.staff.bad_role", true
	case errors.Is(err, ErrBadAccount):
		return http.StatusBadRequest, err.Error(), "console.admin.staff.invalid", true
	case errors.Is(err, bot.ErrWeakPassword), errors.Is(err, ErrLongPassword):
		return http.StatusBadRequest, fmt.Sprintf("password must be %d characters to 72 bytes", MinPassword), "console.admin.staff.password_rule", true
	}
	return 0, "", "", false
}

func (s *Server) apiStaff(w http.ResponseWriter, r *http.Request, _ bot.StaffMember) {
	ms, err := s.cfg.Accounts.Store.List(r.Context())
	if err != nil {
		s.storeFailed(w, "staff list", err)
		return
	}
	out := make([]staffJSON, 0, len(ms))
	for _, m := range ms {
		out = append(out, staffOf(m))
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) apiStaffAdd(w http.ResponseWriter, r *http.Request, m bot.StaffMember) {
	in, err := readStaffInput(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	sc, by := s.staffChanges(r, m)
	err = s.auditLost(sc.Add(r.Context(), by, in.Email, in.Name, bot.Role(in.Role), in.Password))
	if status, msg, _, ok := staffRefusal(err); ok {
		writeError(w, status, msg)
		return
	}
	if err != nil {
		s.storeFailed(w, "staff add", err)
		return
	}
	added, err := s.cfg.Accounts.Store.List(r.Context())
	if err != nil {
		s.storeFailed(w, "staff add", err)
		return
	}
	for _, a := range added {
		if a.Email == bot.NormalizeEmail(in.Email) {
			writeJSON(w, http.StatusCreated, staffOf(a))
			return
		}
	}
	writeError(w, http.StatusNotFound, "the account was added but is not listed; try again")
}

// apiStaffChange is disable, password or token, on the account {email}.
func (s *Server) apiStaffChange(change string) func(http.ResponseWriter, *http.Request, bot.StaffMember) {
	return func(w http.ResponseWriter, r *http.Request, m bot.StaffMember) {
		in, err := readStaffInput(r)
		if err != nil {
			writeError(w, http.StatusBadRequest, err.Error())
			return
		}
		email := bot.NormalizeEmail(r.PathValue("email"))
		token, err := s.changeStaff(r, m, change, email, in.Password)
		if status, msg, _, ok := staffRefusal(err); ok {
			writeError(w, status, msg)
			return
		}
		if err != nil {
			s.storeFailed(w, "staff "+change, err)
			return
		}
		out := map[string]string{"email": email, "done": change}
		if change == "token" {
			out["token"] = token
			out["warning"] = "this token is shown once; keep it now"
		}
		writeJSON(w, http.StatusOK, out)
	}
}

// changeStaff makes one change to the account email; token is the new one's.
func (s *Server) changeStaff(r *http.Request, m bot.StaffMember, change, email, password string) (token string, err error) {
	sc, by := s.staffChanges(r, m)
	switch change {
	case "disable":
		err = sc.Disable(r.Context(), by, email)
	case "password":
		err = sc.SetPassword(r.Context(), by, email, password)
	case "token":
		token, err = sc.NewToken(r.Context(), by, email)
	}
	if err = s.auditLost(err); err == nil {
		s.log.Info("staff account changed", "change", change, "staff", bot.MaskID(m.Email), "account", bot.MaskID(email))
	}
	return token, err
}

// auditLost logs a change whose audit record was lost and treats it as made: the
// change happened, and the log says which record is missing.
func (s *Server) auditLost(err error) error {
	if errors.Is(err, ErrAuditLost) {
		s.log.Error("audit record lost", "err", err)
		return nil
	}
	return err
}

func (s *Server) staffPage(w http.ResponseWriter, r *http.Request, c caller) {
	v := s.adminPage(w, r, "staff", c, "console.admin.staff.title")
	s.renderStaff(w, r, c, http.StatusOK, v)
}

// renderStaff shows the accounts in v.
func (s *Server) renderStaff(w http.ResponseWriter, r *http.Request, c caller, status int, v view) {
	ms, err := s.cfg.Accounts.Store.List(r.Context())
	if err != nil {
		s.log.Error("staff list", "err", err)
		s.errorPage(w, r, c, http.StatusServiceUnavailable, "console.unavailable")
		return
	}
	for _, m := range ms {
		v.Admin.Staff = append(v.Admin.Staff, staffOf(m))
	}
	v.Admin.MinPassword, v.Admin.Roles = MinPassword, []bot.Role{bot.RoleOperator, bot.RoleAdmin}
	v.Admin.PasswordHelp = s.cat.For(v.Lang).T("console.admin.staff.password_help", map[string]any{"Min": MinPassword})
	s.render(w, status, "staff", v)
}

func (s *Server) staffAddPage(w http.ResponseWriter, r *http.Request, c caller) {
	in, err := readStaffInput(r)
	if err == nil {
		sc, by := s.staffChanges(r, c.member)
		err = s.auditLost(sc.Add(r.Context(), by, in.Email, in.Name, bot.Role(in.Role), in.Password))
	}
	s.staffDone(w, r, c, err, "staff_added")
}

// staffChangePage is disable, password or token from the staff page. A new token is
// shown on the page that answers the form, once; it is in no URL and no log.
func (s *Server) staffChangePage(change string) func(http.ResponseWriter, *http.Request, caller) {
	return func(w http.ResponseWriter, r *http.Request, c caller) {
		email := bot.NormalizeEmail(r.PathValue("email"))
		token, err := s.changeStaff(r, c.member, change, email, r.PostFormValue("password"))
		if change == "token" && err == nil {
			v := s.adminPage(w, r, "staff", c, "console.admin.staff.title")
			v.Admin.Token, v.Admin.TokenFor = token, email
			s.renderStaff(w, r, c, http.StatusOK, v)
			return
		}
		s.staffDone(w, r, c, err, "staff_"+map[string]string{"disable": "disabled", "password": "password"}[change])
	}
}

// staffDone answers a staff form: back to the list with a notice, or the list again
// with the reason it was refused.
func (s *Server) staffDone(w http.ResponseWriter, r *http.Request, c caller, err error, flash string) {
	if err == nil {
		http.Redirect(w, r, Prefix+"staff?flash="+url.QueryEscape(flash), http.StatusSeeOther)
		return
	}
	status, _, msgID, ok := staffRefusal(err)
	if !ok {
		s.log.Error("staff change", "err", err)
		s.errorPage(w, r, c, http.StatusServiceUnavailable, "console.unavailable")
		return
	}
	v := s.adminPage(w, r, "staff", c, "console.admin.staff.title")
	s.refuse(&v, msgID)
	s.renderStaff(w, r, c, status, v)
}
