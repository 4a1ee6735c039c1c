package bot

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// Role is what a staff member may do in the console.
type Role string

const (
	// RoleOperator answers citizens, takes conversations over, notes and resolves.
	RoleOperator Role = "operator"
	// RoleAdmin also manages staff, canned answers, programs and failed submissions.
	RoleAdmin Role = "admin"
)

// ParseRole reads "operator" or "admin".
func ParseRole(s string) (Role, error) {
	switch r := Role(strings.ToLower(strings.TrimSpace(s))); r {
	case RoleOperator, RoleAdmin:
		return r, nil
	}
	return "", fmt.Errorf("%w %q: want operator or admin", ErrUnknownRole, s)
}

// StaffMember is a city staff account (cán bộ) of the console. It never holds a
// password or a token: the store keeps only their hashes.
type StaffMember struct {
	// Email names the account: lower-cased and trimmed (NormalizeEmail).
	Email     string
	Name      string
	Role      Role
	Disabled  bool
	CreatedAt time.Time
	// PasswordAt is when the password was last set.
	PasswordAt time.Time
	// HasToken tells whether the account has an API token.
	HasToken bool
}

// IsAdmin tells whether the member may use the admin pages and routes.
func (m StaffMember) IsAdmin() bool { return m.Role == RoleAdmin }

// StaffSession is one login to the console.
type StaffSession struct {
	ID    string
	Email string
	// CSRF is the per-session token the console's forms carry.
	CSRF     string
	Created  time.Time
	LastSeen time.Time
}

// StaffTokenPrefix starts every staff API token, so a leaked one is recognized.
const StaffTokenPrefix = "sk_"

// NormalizeEmail is the form emails are stored and compared in.
func NormalizeEmail(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// MaxEmail is the longest email address, in bytes (RFC 5321's path limit less its
// angle brackets).
const MaxEmail = 254

// PlausibleEmail reports whether s (normalized) can be an account's email: at most
// MaxEmail bytes, one "@" between a local part and a domain, no space or control
// character. It is a first filter for what a login form receives, not a full check.
func PlausibleEmail(s string) bool {
	if len(s) > MaxEmail {
		return false
	}
	local, domain, ok := strings.Cut(s, "@")
	if !ok || local == "" || domain == "" || strings.Contains(domain, "@") {
		return false
	}
	return !strings.ContainsFunc(s, func(r rune) bool { return r <= ' ' || r == 0x7f || r == utf8.RuneError })
}

var (
	// ErrUnknownStaff: no account with that email.
	ErrUnknownStaff = errors.New("unknown staff member")
	// ErrStaffExists: an account with that email already exists.
	ErrStaffExists = errors.New("staff member already exists")
	// ErrStaffDisabled: the account is disabled.
	ErrStaffDisabled = errors.New("staff member is disabled")
	// ErrUnknownRole: a role other than operator or admin.
	ErrUnknownRole = errors.New("unknown role")
	// ErrBadCredentials is the one answer to a failed login or an unknown or revoked
	// token: it does not tell an unknown email from a wrong password or a disabled
	// account.
	ErrBadCredentials = errors.New("wrong email or password")
	// ErrTooManyAttempts: too many failed logins for the account or the address.
	ErrTooManyAttempts = errors.New("too many login attempts, try again later")
	// ErrNoSession: the session does not exist, expired, or its account was disabled.
	ErrNoSession = errors.New("no such session")
	// ErrWeakPassword: a password shorter than the rules allow.
	ErrWeakPassword = errors.New("password too short")
)
