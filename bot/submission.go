package bot

import "time"

// Submission kinds.
const (
	KindInitiative = "initiative"
	KindFeedback   = "feedback"
)

// Submission is a confirmed initiative or feedback, as it enters the outbox and reaches
// the city's intake. ID is stable for the submission's whole life (the intake's
// idempotency key); Reference is what the citizen is told ("SK-2026-000123").
type Submission struct {
	ID        string `json:"id"`
	Reference string `json:"reference"`
	Proposal
	Contact       SubmitterContact `json:"contact"`
	Conversation  ConversationRef  `json:"conversation"`
	Lang          string           `json:"lang"`
	ConsentAt     time.Time        `json:"consent_at,omitzero"`
	NoticeVersion string           `json:"notice_version,omitempty"`
	SubmittedAt   time.Time        `json:"submitted_at"`
}

// Proposal is what the citizen proposes or says: the answers a Draft collects and its
// Submission carries. Both embed it, so that a submission is the draft's proposal
// taken whole, and encoding/json keeps their JSON flat, as the intake expects. An
// initiative fills the program and the text; feedback the topic, rating and comment.
type Proposal struct {
	Kind         string       `json:"kind"`
	ProgramID    string       `json:"program_id,omitempty"`
	Field        string       `json:"field,omitempty"`
	Title        string       `json:"title,omitempty"`
	Description  string       `json:"description,omitempty"`
	Benefit      string       `json:"benefit,omitempty"`
	Location     *Location    `json:"location,omitempty"`
	LocationText string       `json:"location_text,omitempty"`
	Attachments  []Attachment `json:"attachments,omitempty"`
	Topic        string       `json:"topic,omitempty"`
	TopicRef     string       `json:"topic_ref,omitempty"`
	Rating       int          `json:"rating,omitempty"`
	Comment      string       `json:"comment,omitempty"`
}

// SubmitterContact is how the city reaches the citizen. Personal data: never logged.
type SubmitterContact struct {
	Name  string `json:"name,omitempty"`
	Phone string `json:"phone,omitempty"` // E.164, "+84…"
	Email string `json:"email,omitempty"`
}
