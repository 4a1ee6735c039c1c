package bot

import (
	"errors"
	"fmt"
	"strings"
	"time"
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

// EmailMax is the longest email an account may have, in bytes.
const EmailMax = 254

// ValidEmail reports whether s, normalized, is an address an account may have: a
// plain one, local@domain.tld, of letters, digits and . _ + - (the domain: letters,
// digits, - and dots), so that it can name the account in a URL's path and a log
// without escaping surprises.
func ValidEmail(s string) bool {
	local, domain, ok := strings.Cut(s, "@")
	if !ok || len(s) > EmailMax || local == "" || len(local) > 64 || !strings.Contains(domain, ".") {
		return false
	}
	for _, r := range local {
		if !isAlnum(r) && !strings.ContainsRune("._+-", r) {
			return false
		}
	}
	for label := range strings.SplitSeq(domain, ".") {
		if label == "" || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, r := range label {
			if !isAlnum(r) && r != '-' {
				return false
			}
		}
	}
	return true
}

func isAlnum(r rune) bool { return r >= 'a' && r <= 'z' || r >= '0' && r <= '9' }

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
