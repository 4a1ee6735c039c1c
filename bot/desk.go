package bot

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// This file holds where a conversation stands for staff (its desk): waiting for a
// person, open, or resolved, who has it, and the times its clocks run from. The engine
// keeps it with the session, under the conversation's lock, so that the console's
// actions and the citizen's messages change it one at a time and in order.

// DeskStatus says where a conversation stands for staff.
type DeskStatus string

// Desk statuses. A conversation the bot handles on its own is open.
const (
	DeskOpen     DeskStatus = "open"
	DeskWaiting  DeskStatus = "waiting"  // the citizen waits for a person's answer
	DeskResolved DeskStatus = "resolved" // staff closed it; the citizen's next message reopens it
)

// ParseDeskStatus reads a status as the console's filters write it.
func ParseDeskStatus(s string) (DeskStatus, error) {
	switch st := DeskStatus(strings.ToLower(strings.TrimSpace(s))); st {
	case DeskOpen, DeskWaiting, DeskResolved:
		return st, nil
	}
	return "", fmt.Errorf("unknown status %q (waiting, open or resolved)", s)
}

// Why a conversation waits for a person.
const (
	WaitAsked  = "asked"  // the citizen asked for a person
	WaitMisses = "misses" // the bot could not understand them, three times at one question
	WaitWrote  = "wrote"  // the citizen wrote again to the person who has the conversation
)

// Desk is the staff's side of a conversation, kept in the profile.
type Desk struct {
	Status DeskStatus `json:"status,omitempty"` // "" is open
	// Reason says why the conversation waits (WaitAsked, …); "" when it does not.
	Reason string `json:"reason,omitempty"`
	// WaitingSince is when the citizen began waiting for an answer: the response
	// clock runs from it.
	WaitingSince time.Time `json:"waiting_since,omitzero"`
	// Assignee is the staff member (email) the conversation is assigned to. While the
	// conversation is in human mode the assignee holds it: nobody else takes it over.
	Assignee string `json:"assignee,omitempty"`
	// Opened is when the current case began (the citizen's first wait since the last
	// resolve): the resolution clock runs from it.
	Opened time.Time `json:"opened,omitzero"`
	// Answered is the first staff answer of the current case.
	Answered time.Time `json:"answered,omitzero"`
	Resolved time.Time `json:"resolved,omitzero"`
}

// State is the desk's status, open when none was set.
func (d Desk) State() DeskStatus {
	if d.Status == "" {
		return DeskOpen
	}
	return d.Status
}

// HeldError refuses a takeover or a reply while another member of staff holds the
// conversation.
type HeldError struct {
	By string // the holder's email
}

func (e *HeldError) Error() string { return "conversation is held by " + e.By }

// ErrNotStaff is returned for a console event without the staff member's email.
var ErrNotStaff = errors.New("a console event needs the staff member's email")

// checkHold refuses a console event that would take over a conversation someone
// else holds. Handing back, resolving, assigning and notes are anyone's to do.
func checkHold(ev Event, s *Session) error {
	if !ev.Kind.FromConsole() {
		return nil
	}
	if ev.StaffEmail == "" {
		return ErrNotStaff
	}
	switch ev.Kind {
	case EventStaffJoin, EventStaffReply:
		d := s.Profile.Desk
		if s.Profile.Mode == ModeHuman && d.Assignee != "" && d.Assignee != ev.StaffEmail {
			return &HeldError{By: d.Assignee}
		}
	}
	return nil
}

// Follow moves the desk on after the conversation answered ev (the engine calls it;
// a test of the flows alone may too). wasHuman is the mode
// before the event; s is the session after it.
func (d *Desk) Follow(ev Event, wasHuman bool, s *Session, at time.Time) {
	human := s.Profile.Mode == ModeHuman
	switch {
	case ev.Kind.FromCitizen():
		d.citizen(wasHuman, human, s.State.Misses, at)
	case ev.Kind == EventStaffMessage, ev.Kind == EventStaffReply:
		d.answered(at)
		if ev.Kind == EventStaffReply {
			d.Assignee = ev.StaffEmail
		}
	case ev.Kind == EventStaffJoin:
		d.Assignee = ev.StaffEmail
		if d.State() == DeskResolved {
			d.reopen(at)
		}
	case ev.Kind == EventStaffAssign:
		d.Assignee = ev.Payload
	case ev.Kind == EventStaffResolve:
		d.Status, d.Reason, d.WaitingSince, d.Resolved = DeskResolved, "", time.Time{}, at
	case ev.Kind == EventStaffHandback:
		if d.State() == DeskWaiting {
			// The bot answers again: nobody waits for a person any more.
			d.Status, d.Reason, d.WaitingSince = DeskOpen, "", time.Time{}
		}
	}
}

// citizen follows a message of the citizen's.
func (d *Desk) citizen(wasHuman, human bool, misses int, at time.Time) {
	switch {
	case human && !wasHuman:
		d.wait(WaitAsked, at)
	case human && d.State() != DeskWaiting:
		d.wait(WaitWrote, at)
	case !human && wasHuman && d.State() == DeskWaiting:
		// They went back to the bot themselves ("hủy").
		d.Status, d.Reason, d.WaitingSince = DeskOpen, "", time.Time{}
	case !human && misses >= 3 && d.State() != DeskWaiting:
		d.wait(WaitMisses, at)
	case !human && misses == 0 && d.Reason == WaitMisses:
		// The bot got past the question it could not understand.
		d.Status, d.Reason, d.WaitingSince = DeskOpen, "", time.Time{}
	case d.State() == DeskResolved:
		d.reopen(at)
	}
}

// reopen starts a new case: the citizen came back after a resolve.
func (d *Desk) reopen(at time.Time) {
	d.Status, d.Opened, d.Answered, d.Resolved = DeskOpen, at, time.Time{}, time.Time{}
}

// wait starts the response clock.
func (d *Desk) wait(reason string, at time.Time) {
	if d.State() == DeskResolved || d.Opened.IsZero() {
		d.reopen(at)
	}
	d.Status, d.Reason, d.WaitingSince = DeskWaiting, reason, at
}

// answered stops the response clock: a person wrote to the citizen.
func (d *Desk) answered(at time.Time) {
	if d.Answered.IsZero() {
		d.Answered = at
	}
	if d.Opened.IsZero() {
		d.Opened = at
	}
	if d.State() != DeskOpen {
		d.Status, d.Reason, d.WaitingSince = DeskOpen, "", time.Time{}
	}
}

// Card is one conversation as the console's inbox lists it. The store keeps it beside
// the session, written by the same commit, so that the inbox never reads sessions.
type Card struct {
	Conversation ConversationRef
	Status       DeskStatus
	Reason       string
	WaitingSince time.Time
	Assignee     string
	Opened       time.Time
	Answered     time.Time
	Lang         string
	Human        bool // an operator has the conversation (human mode)
	// Program, Reference and Name are the latest known: the draft's or the last
	// submission's program, the last reference code, the citizen's name as given.
	Program   string
	Reference string
	Name      string
	// LastText is the last thing a person wrote, the citizen or staff (the bot's answers,
	// notes and staff actions are not): a line for the inbox, its first 64 bytes or so
	// and "…" when it is longer (the whole text is in the transcript).
	LastText string
	LastDir  Direction
	LastAt   time.Time
	Updated  time.Time
}

// InboxQuery selects cards.
type InboxQuery struct {
	Status   DeskStatus // required
	Assignee string     // only conversations assigned to this email
	Channel  Channel
	Lang     string
	Program  string
	Limit    int // default 50
}
