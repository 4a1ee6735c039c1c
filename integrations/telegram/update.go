package telegram

import (
	"encoding/json"
	"errors"
	"fmt"
)

// The wire types: the parts of Telegram's objects the gateway reads, and nothing else.
//
// An update is decoded in two stages. First its update_id and, kept raw, the kinds the
// gateway handles; then each kind present, on its own, into the few fields used. A part
// never read is never decoded, so a field Telegram adds, a kind the gateway does not
// know, or a value whose type differs from what a library expected (the docs' own
// inline_query example has a numeric id) cannot make an update unreadable. A wrong type
// in a field the gateway does read makes that update unusable: acknowledged and logged,
// never run half-read.

// update is the first stage.
type update struct {
	ID                *int64          `json:"update_id"`
	Message           json.RawMessage `json:"message"`
	EditedMessage     json.RawMessage `json:"edited_message"`
	ChannelPost       json.RawMessage `json:"channel_post"`
	EditedChannelPost json.RawMessage `json:"edited_channel_post"`
	CallbackQuery     json.RawMessage `json:"callback_query"`
	MyChatMember      json.RawMessage `json:"my_chat_member"`
}

type user struct {
	ID           int64  `json:"id"`
	LanguageCode string `json:"language_code"`
}

type chat struct {
	ID   int64  `json:"id"`
	Type string `json:"type"` // absent in some of Telegram's own examples
}

type message struct {
	MessageID    int64       `json:"message_id"`
	From         *user       `json:"from"`
	Chat         *chat       `json:"chat"`
	Date         int64       `json:"date"`
	Text         string      `json:"text"`
	Caption      string      `json:"caption"`
	MediaGroupID string      `json:"media_group_id"`
	Contact      *contact    `json:"contact"`
	Venue        *venue      `json:"venue"`
	Location     *location   `json:"location"`
	Photo        []photoSize `json:"photo"`
	Document     *document   `json:"document"`

	// keys are the message's field names, to tell content the gateway does not take
	// and service messages apart without decoding them.
	keys map[string]json.RawMessage
}

type contact struct {
	PhoneNumber string `json:"phone_number"`
	FirstName   string `json:"first_name"`
	LastName    string `json:"last_name"`
	UserID      int64  `json:"user_id"`
}

type location struct {
	Latitude  float64 `json:"latitude"`
	Longitude float64 `json:"longitude"`
}

type venue struct {
	Location location `json:"location"`
	Title    string   `json:"title"`
	Address  string   `json:"address"`
}

type photoSize struct {
	FileID   string `json:"file_id"`
	Width    int64  `json:"width"`
	Height   int64  `json:"height"`
	FileSize int64  `json:"file_size"`
}

type document struct {
	FileID   string `json:"file_id"`
	FileName string `json:"file_name"`
	MimeType string `json:"mime_type"`
	FileSize int64  `json:"file_size"`
}

type callbackQuery struct {
	ID      string          `json:"id"`
	From    *user           `json:"from"`
	Message *pressedMessage `json:"message"`
	Data    string          `json:"data"`
}

// pressedMessage is the message whose button was pressed: only where it is is read.
type pressedMessage struct {
	MessageID int64 `json:"message_id"`
	Chat      *chat `json:"chat"`
}

type chatMemberUpdated struct {
	Chat          *chat `json:"chat"`
	From          *user `json:"from"`
	Date          int64 `json:"date"`
	NewChatMember struct {
		Status string `json:"status"`
	} `json:"new_chat_member"`
}

// errUnusable marks an update the gateway cannot use: acknowledged, logged, not run.
var errUnusable = errors.New("unusable update")

// unusable says why an update cannot be used.
func unusable(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errUnusable, fmt.Sprintf(format, args...))
}

// decodeUpdate is the first stage. body must be valid JSON; an object without a
// readable update_id is unusable.
func decodeUpdate(body []byte) (update, error) {
	var u update
	if err := json.Unmarshal(body, &u); err != nil {
		return update{}, unusable("%s", typeProblem(err))
	}
	if u.ID == nil {
		return update{}, unusable("no update_id")
	}
	return u, nil
}

// decodeMessage is the second stage for a message.
func decodeMessage(raw json.RawMessage) (*message, error) {
	var m message
	if err := decodePart(raw, "message", &m); err != nil {
		return nil, err
	}
	if err := json.Unmarshal(raw, &m.keys); err != nil {
		return nil, unusable("message: %s", typeProblem(err))
	}
	return &m, nil
}

// decodePart decodes one kind of update into v; kind names it in the error.
func decodePart(raw json.RawMessage, kind string, v any) error {
	if err := json.Unmarshal(raw, v); err != nil {
		return unusable("%s: %s", kind, typeProblem(err))
	}
	return nil
}

// typeProblem names a decoding failure without quoting the citizen's data.
func typeProblem(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		if te.Field == "" {
			return fmt.Sprintf("a JSON %s where an object was expected", te.Value)
		}
		return fmt.Sprintf("field %s is a JSON %s, not %s", te.Field, te.Value, te.Type)
	}
	return "not readable JSON"
}

// present reports a field that is there and not null.
func present(raw json.RawMessage) bool {
	return len(raw) > 0 && string(raw) != "null"
}

// has reports whether the message carries field name (not null, not false, not "").
func (m *message) has(name string) bool {
	v, ok := m.keys[name]
	if !ok {
		return false
	}
	switch string(v) {
	case "null", "false", `""`, "[]", "0":
		return false
	}
	return true
}
