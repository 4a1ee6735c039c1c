package bot

import (
	"fmt"
	"strings"
	"time"
)

// Channel names a messaging channel.
type Channel string

// The channels the gateway speaks.
const (
	Telegram Channel = "telegram"
	Zalo     Channel = "zalo"
	Web      Channel = "web"
	Terminal Channel = "terminal"
)

// short is the prefix a channel gives its conversation keys ("tg:12345").
func (c Channel) short() string {
	switch c {
	case Telegram:
		return "tg"
	case Zalo:
		return "zl"
	case Terminal:
		return "term"
	default:
		return string(c)
	}
}

// ParseConversationKey reads a key Key made ("tg:12345").
func ParseConversationKey(key string) (ConversationRef, error) {
	short, id, ok := strings.Cut(key, ":")
	if ok {
		for _, ch := range []Channel{Telegram, Zalo, Terminal, Web} {
			if ch.short() == short {
				ref := ConversationRef{Channel: ch, ID: id}
				if err := ref.Validate(); err != nil {
					return ConversationRef{}, err
				}
				return ref, nil
			}
		}
	}
	return ConversationRef{}, fmt.Errorf("conversation key %q: not <channel>:<id>", MaskID(key))
}

// ConversationRef names one conversation: a citizen on one channel.
type ConversationRef struct {
	Channel Channel `json:"channel"`
	ID      string  `json:"id"`
}

// Key is the conversation's stable key, e.g. "tg:12345".
func (c ConversationRef) Key() string { return c.Channel.short() + ":" + c.ID }

func (c ConversationRef) String() string { return c.Key() }

// Validate reports a conversation reference that cannot name a conversation.
func (c ConversationRef) Validate() error {
	if c.Channel == "" || c.ID == "" {
		return fmt.Errorf("conversation %q: channel and id are required", MaskID(c.Key()))
	}
	if strings.ContainsAny(c.ID, "{}: \n") {
		return fmt.Errorf("conversation %q: id has a reserved character", MaskID(c.Key()))
	}
	return nil
}

// EventKind tells what an Event carries.
type EventKind string

// The kinds of event a channel produces.
const (
	EventText        EventKind = "text"        // Text
	EventCommand     EventKind = "command"     // Command, optional Payload (a deep-link start payload)
	EventButton      EventKind = "button"      // Payload of the pressed choice
	EventContact     EventKind = "contact"     // Contact
	EventLocation    EventKind = "location"    // Location
	EventAttachments EventKind = "attachments" // Attachments (several for an album), Text holds a caption
	EventUnsupported EventKind = "unsupported" // Unsupported names what was sent (voice, sticker, …)
	EventFollow      EventKind = "follow"      // the citizen can be messaged again
	EventUnfollow    EventKind = "unfollow"    // the citizen blocked or left: do not message them
	// EventStatus is not from the citizen: the city's intake changed the status of one of
	// their submissions (Status says how); the citizen is told in their language.
	EventStatus EventKind = "status"
	// EventStaffMessage is not from the citizen either: a member of staff answered them
	// from the provider's own tool (Zalo's OA chat), outside the gateway. Text is what
	// they wrote; the conversation goes to an operator (human mode).
	EventStaffMessage EventKind = "staff"
	// EventStaffJoin, EventStaffReply and EventStaffHandback come from the operator
	// console: a member of staff (Event.Staff names them) took the conversation over,
	// wrote to the citizen (Text, sent in the channel's reply lane), or handed the
	// conversation back to the bot, which resumes where the citizen left off.
	EventStaffJoin     EventKind = "staff_join"
	EventStaffReply    EventKind = "staff_reply"
	EventStaffHandback EventKind = "staff_handback"
	// EventStaffNote, EventStaffAssign and EventStaffResolve are the console's too, and
	// the citizen sees none of them: a note for colleagues (Text), the conversation
	// given to a member of staff (Payload: their email), and the case closed (the bot
	// takes a conversation staff held back, and says so).
	EventStaffNote    EventKind = "staff_note"
	EventStaffAssign  EventKind = "staff_assign"
	EventStaffResolve EventKind = "staff_resolve"
)

// FromStaff reports whether events of kind k are staff acting on the conversation, in
// the console or in the provider's own tool.
func (k EventKind) FromStaff() bool {
	return k == EventStaffMessage || k.FromConsole()
}

// FromConsole reports whether events of kind k are actions in the operator console.
func (k EventKind) FromConsole() bool {
	switch k {
	case EventStaffJoin, EventStaffReply, EventStaffHandback, EventStaffNote, EventStaffAssign, EventStaffResolve:
		return true
	}
	return false
}

// FromCitizen reports whether events of kind k are something the citizen sent, as
// opposed to news about them from elsewhere (a status change, a staff message, the
// channel saying they left).
func (k EventKind) FromCitizen() bool {
	switch k {
	case EventText, EventCommand, EventButton, EventContact, EventLocation, EventAttachments, EventUnsupported:
		return true
	}
	return false
}

// UnsupportedFileElsewhere is the Unsupported of an image or a file a channel will not
// take because it is not on the provider's own file servers (the proxy could never
// fetch it for the city): the citizen is asked to send it again.
const UnsupportedFileElsewhere = "file_elsewhere"

// Event is one thing a citizen did, parsed by a channel adapter.
type Event struct {
	// ID is the provider's id for the event, unique within the channel
	// (Telegram update_id, Zalo msg_id). Redelivered events carry the same ID.
	ID           string          `json:"id"`
	Conversation ConversationRef `json:"conversation"`
	// Lang is the channel's hint of the citizen's language ("en", "vi-VN"); may be empty.
	Lang        string        `json:"lang,omitempty"`
	Kind        EventKind     `json:"kind"`
	Text        string        `json:"text,omitempty"`
	Command     string        `json:"command,omitempty"`
	Payload     string        `json:"payload,omitempty"`
	Contact     *Contact      `json:"contact,omitempty"`
	Location    *Location     `json:"location,omitempty"`
	Attachments []Attachment  `json:"attachments,omitempty"`
	Unsupported string        `json:"unsupported,omitempty"`
	Status      *StatusChange `json:"status,omitempty"`
	// Staff is the name of the staff member behind a staff event, as the citizen and
	// other operators see it; StaffEmail names their account (console events only).
	Staff      string    `json:"staff,omitempty"`
	StaffEmail string    `json:"staff_email,omitempty"`
	At         time.Time `json:"at"`
}

// Submission statuses, as the intake reports them ("submitted" and "undelivered" are
// the gateway's own: before the intake confirmed receipt, and after it refused the
// submission for good, which staff must now look into).
const (
	StatusSubmitted   = "submitted"
	StatusUndelivered = "undelivered"
	StatusReceived    = "received"
	StatusUnderReview = "under_review"
	StatusNeedsInfo   = "needs_info"
	StatusAccepted    = "accepted"
	StatusRejected    = "rejected"
	StatusImplemented = "implemented"
)

// StatusChange is a new status of one of the citizen's submissions.
type StatusChange struct {
	SubmissionID string `json:"submission_id"`
	Reference    string `json:"reference,omitempty"`
	Status       string `json:"status"`
	// IntakeID is the intake's own id of the submission, when it gave one.
	IntakeID string `json:"intake_id,omitempty"`
	// Message is an optional note from the city, in both languages.
	Message Text      `json:"message,omitempty"`
	At      time.Time `json:"at"`
}

// Validate reports an event the engine cannot run.
func (ev Event) Validate() error {
	if err := ev.Conversation.Validate(); err != nil {
		return err
	}
	if ev.ID == "" {
		return fmt.Errorf("event in %s: id is required", MaskID(ev.Conversation.Key()))
	}
	if ev.Kind == "" {
		return fmt.Errorf("event %s: kind is required", ev.ID)
	}
	return nil
}

// Contact is a shared contact card.
type Contact struct {
	Name  string `json:"name,omitempty"`
	Phone string `json:"phone"`
	// Address is a postal address the provider sent with the card (Zalo's form), as
	// one line; may be empty.
	Address string `json:"address,omitempty"`
	// Own is true when the card is the sender's own (Telegram's user_id matches the sender).
	Own bool `json:"own"`
}

// Location is a shared point, with an optional label (a venue's title and address).
type Location struct {
	Lat   float64 `json:"lat"`
	Lon   float64 `json:"lon"`
	Label string  `json:"label,omitempty"`
}

// AttachmentKind tells photos from documents.
type AttachmentKind string

// Attachment kinds.
const (
	Photo    AttachmentKind = "photo"
	Document AttachmentKind = "document"
)

// Attachment references a file held by the channel. Ref is the provider's file reference
// (a Telegram file_id, a Zalo URL): never a URL that carries a bot token.
type Attachment struct {
	Kind    AttachmentKind `json:"kind"`
	Ref     string         `json:"ref"`
	MIME    string         `json:"mime,omitempty"`
	Size    int64          `json:"size,omitempty"`
	Name    string         `json:"name,omitempty"`
	Caption string         `json:"caption,omitempty"`
	// URL is a signed, expiring link to the file through the gateway's media proxy. It is
	// set only on the copy handed to the intake, never stored with a session.
	URL string `json:"url,omitempty"`
}
