package bot

import "time"

// Mode says who answers the citizen.
type Mode string

// Conversation modes.
const (
	ModeBot   Mode = ""      // the bot answers
	ModeHuman Mode = "human" // an operator has the conversation; the bot stays silent
)

// Session is all the engine keeps for one conversation. The store keeps Profile and
// State apart: the profile (language, consent, submissions) lives long, the state (the
// flow, its step and the draft) expires DraftTTL after the last message.
type Session struct {
	Conversation ConversationRef `json:"conversation"`
	Profile      Profile         `json:"profile"`
	State        State           `json:"state"`
	// New is true when the store found neither profile nor state.
	New bool `json:"-"`
}

// Profile is what the gateway remembers of a citizen between conversations.
type Profile struct {
	Lang string `json:"lang,omitempty"` // "vi" or "en"; empty until chosen or hinted
	// Consent is when the citizen accepted the privacy notice, and which version.
	Consent *Consent `json:"consent,omitempty"`
	Mode    Mode     `json:"mode,omitempty"`
	// Desk is where the conversation stands for staff (bot/desk.go).
	Desk Desk `json:"desk,omitzero"`
	// OptedOut: the citizen asked for no broadcasts.
	OptedOut bool `json:"opted_out,omitempty"`
	// Unreachable: the channel said the citizen blocked the bot or left.
	Unreachable bool `json:"unreachable,omitempty"`
	// Programs are the programs the citizen follows, oldest first (at most
	// ProgramsMax): those they started a draft in or submitted to (bot/audience.go).
	Programs []string `json:"programs,omitempty"`
	// Indexed is true once the audience indexes hold this conversation; a profile
	// from before them is written into every index it belongs to by its next event.
	Indexed     bool                `json:"indexed,omitempty"`
	Submissions []SubmissionSummary `json:"submissions,omitempty"`
	// LastInbound is when the citizen last acted on their channel themselves (wrote,
	// pressed a button, followed), by the provider's clock: Zalo lets the OA send
	// consultation messages only for a while after it, so broadcasts read it there.
	LastInbound time.Time `json:"last_inbound,omitzero"`
	Created     time.Time `json:"created"`
	Updated     time.Time `json:"updated"`
}

// NoteInbound records an event of kind k that happened at at, when it is the citizen's
// own doing (staff, the city's notices and leaving the channel are not). A time
// ahead of now (a provider's clock running fast) counts as now, and an older event
// arriving late leaves a later time as it is.
func (p *Profile) NoteInbound(k EventKind, at, now time.Time) {
	if !k.FromCitizen() && k != EventFollow {
		return
	}
	if at.IsZero() || at.After(now) {
		at = now
	}
	if at.After(p.LastInbound) {
		p.LastInbound = at
	}
}

// Consent records the citizen's acceptance of a privacy notice.
type Consent struct {
	At            time.Time `json:"at"`
	NoticeVersion string    `json:"notice_version"`
}

// SubmissionSummary is what "my submissions" shows, and the console beside the
// conversation.
type SubmissionSummary struct {
	ID        string    `json:"id"`
	Reference string    `json:"reference"`
	Kind      string    `json:"kind"`
	Title     string    `json:"title"`
	Status    string    `json:"status"`
	Changed   time.Time `json:"changed"`
	// IntakeID is the city's own id, once its intake gave one.
	IntakeID string `json:"intake_id,omitempty"`
	// History is each status the submission had, oldest first (the last
	// StatusHistoryMax): submitted, received or undelivered, then the city's.
	History []StatusStep `json:"history,omitempty"`
}

// StatusStep is one status of a submission and when it was given.
type StatusStep struct {
	Status string    `json:"status"`
	At     time.Time `json:"at"`
}

// StatusHistoryMax bounds a submission's History.
const StatusHistoryMax = 20

// Record notes a new status (and the city's id, when given).
func (s *SubmissionSummary) Record(status, intakeID string, at time.Time) {
	s.Status, s.Changed = status, at
	if intakeID != "" {
		s.IntakeID = intakeID
	}
	s.History = append(s.History, StatusStep{Status: status, At: at})
	if n := len(s.History); n > StatusHistoryMax {
		s.History = s.History[n-StatusHistoryMax:]
	}
}

// State is where the citizen is in a flow, and their draft.
type State struct {
	Flow string `json:"flow,omitempty"` // "" when at the menu
	Step string `json:"step,omitempty"`
	// History holds the steps visited, for "back".
	History []string `json:"history,omitempty"`
	// Misses counts wrong answers at the current step.
	Misses int `json:"misses,omitempty"`
	// Editing is true when a step was opened from the review and returns to it.
	Editing bool `json:"editing,omitempty"`
	// Pending names a question waiting for yes or no ("cancel", "forget", "resume").
	Pending string `json:"pending,omitempty"`
	// Offered are the choices of the last reply, so that a typed number or label
	// counts as pressing that button (channels without buttons, the terminal). Empty
	// when OfferedMenu names them (but with flows.Config.LegacyMenu); flows'
	// Router.Offered reads either.
	Offered []Choice `json:"offered,omitempty"`
	// OfferedMenu says the last reply offered the main menu, in the session's language:
	// the flows name it instead of keeping its labels in Offered (most idle
	// conversations end at the menu, and its labels were most of their state).
	OfferedMenu bool      `json:"menu,omitempty"`
	Draft       *Draft    `json:"draft,omitempty"`
	Updated     time.Time `json:"updated"`
}

// Draft is an unfinished submission: the proposal and the contact as far as the
// citizen has answered. Stored in the session's state as flat JSON (the embedded
// structs' fields sit at the top level).
type Draft struct {
	ID string `json:"id"` // becomes the submission's stable id
	Proposal
	SubmitterContact
	Started time.Time `json:"started"`
	// Reached is the furthest step of the initiative funnel the reports counted for
	// this draft (bot/stats.go), so that "back" and edits count no step twice.
	Reached string `json:"reached,omitempty"`
}
