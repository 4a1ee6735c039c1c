package bot

import (
	"errors"
	"time"
)

// AuditEntry is one line of the console's audit trail: who did what, to which
// conversation or submission, from where.
type AuditEntry struct {
	// ID is set by the store; entries are listed by it, newest first.
	ID string    `json:"id"`
	At time.Time `json:"at"`
	// Staff is the staff member's email; "" for the system.
	Staff string `json:"staff"`
	// Action is one of the Audit* constants below (or a newer word of the same kind).
	Action       string `json:"action"`
	Conversation string `json:"conversation,omitempty"`
	Submission   string `json:"submission,omitempty"`
	// Detail is a short note (at most AuditDetailMax characters; stores cut a longer
	// one), never a password or a token.
	Detail string `json:"detail,omitempty"`
	// Addr is the client's address.
	Addr string `json:"addr,omitempty"`
	// Via is AuditViaToken when the action came with the member's API token (a tool
	// acting for them, perhaps one an admin issued), "" in a browser session.
	Via string `json:"via,omitempty"`
}

// AuditViaToken marks an action made with an API token.
const AuditViaToken = "token"

// AuditDetailMax is the longest Detail kept, in characters.
const AuditDetailMax = 500

// Actions of the audit trail.
const (
	AuditLogin         = "login"
	AuditLoginFailed   = "login_failed"
	AuditTakeover      = "takeover"
	AuditReply         = "reply"
	AuditNote          = "note"
	AuditHandback      = "handback"
	AuditResolve       = "resolve"
	AuditAssign        = "assign"
	AuditResend        = "resend"
	AuditStaffAdd      = "staff_add"
	AuditStaffDisable  = "staff_disable"
	AuditStaffPassword = "staff_password"
	AuditStaffToken    = "staff_token"
	AuditCannedPut     = "canned_put"
	AuditCannedDelete  = "canned_delete"
	// A broadcast made or cancelled in the console (its id in Detail).
	AuditBroadcastCreate = "broadcast_create"
	AuditBroadcastCancel = "broadcast_cancel"
)

// ErrBadAuditCursor: a page cursor the audit trail never handed out.
var ErrBadAuditCursor = errors.New("bad audit page cursor")

// AuditQuery asks for one page of the audit trail, newest first.
type AuditQuery struct {
	// Before is the next cursor of the previous page; "" starts at the newest entry.
	Before string
	// Limit is the page size: 50 when 0, at most 500 (redisstore's DefaultAuditLimit and MaxAuditLimit).
	Limit int
	// Staff, Action and Conversation keep only the entries that match them all ("" =
	// any). A filtered page reads older entries until it is full, the trail ends, or
	// it read a few thousand entries; then its next cursor goes on from where it
	// stopped.
	Staff        string
	Action       string
	Conversation string
}

// Matches reports whether e passes the query's filters.
func (q AuditQuery) Matches(e AuditEntry) bool {
	return (q.Staff == "" || e.Staff == q.Staff) &&
		(q.Action == "" || e.Action == q.Action) &&
		(q.Conversation == "" || e.Conversation == q.Conversation)
}
