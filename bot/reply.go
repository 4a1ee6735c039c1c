package bot

// Request asks the channel to offer a special input in addition to the choices.
type Request string

// Requests a reply may carry.
const (
	RequestNone     Request = ""
	RequestContact  Request = "contact"  // a button that shares the citizen's phone
	RequestLocation Request = "location" // a button that shares the citizen's location
)

// Reply is one message to the citizen; the channel decides how to draw it
// (Telegram: inline keyboard; Zalo and the terminal: a numbered list).
type Reply struct {
	Text    string   `json:"text"`
	Choices []Choice `json:"choices,omitempty"`
	Request Request  `json:"request,omitempty"`
}

// Choice is a button: a label shown to the citizen and the payload it sends back.
// Payloads are short (Telegram allows 64 bytes of callback data).
type Choice struct {
	Label   string `json:"label"`
	Payload string `json:"payload"`
}

// Outbound is a reply on its way to a channel: what the delivery queue holds.
type Outbound struct {
	// ID is stable for a given event and position ("<event id>/<n>"), so a redelivered
	// event that is run again queues the same IDs and senders can drop repeats.
	ID           string          `json:"id"`
	Conversation ConversationRef `json:"conversation"`
	Lang         string          `json:"lang"`
	Reply        Reply           `json:"reply"`
	// Track asks the delivery queue to keep what became of this reply (sent, or failed
	// and why), for the console: staff see whether their words reached the citizen.
	Track bool `json:"track,omitempty"`
	// Broadcast names the broadcast this message is part of (bulk lane): its sender
	// counts it sent or failed there.
	Broadcast string `json:"broadcast,omitempty"`
	// ZNS, when set, is sent instead of Reply, to a Zalo citizen outside the OA's
	// interaction window (broadcast.ZNSFor decides).
	ZNS *ZNSMessage `json:"zns,omitempty"`
}

// ZNSMessage is a Zalo Notification Service message: an approved template of the OA,
// the phone the citizen gave with their consent (84xxxxxxxxx) and the template's
// parameters filled in. Personal data: never logged.
type ZNSMessage struct {
	TemplateID string            `json:"template_id"`
	Phone      string            `json:"phone"`
	Data       map[string]string `json:"data"`
}
