package telegram

import (
	"errors"
	"fmt"
	"strings"

	json "github.com/go-json-experiment/json/v1"
)

// The wire types: the parts of Telegram's objects the gateway reads, and nothing else.
//
// An update is decoded in two stages. First its update_id and, kept raw, the kinds the
// gateway handles; then each kind present, on its own, into the few fields used. A part
// never read is never decoded, so a field Telegram adds, a kind the gateway does not
// know, or a value whose type differs from what a library expected (the docs' own
// inline_query example has a numeric id) cannot make an update unreadable. A wrong type
// in a field the gateway does read leaves that field empty, and is logged; when what is
// left cannot be used (no chat, chat id 0), the update is acknowledged, logged and never
// run. Only update_id must be read as it is: it is what redeliveries are known by.

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
// errMalformed is a body that is not JSON at all.
var errMalformed = errors.New("telegram: update is not JSON")

func unusable(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errUnusable, fmt.Sprintf(format, args...))
}

// decodeUpdate is the first stage: a body that is not JSON is errMalformed, an object
// without a readable update_id unusable.
func decodeUpdate(body []byte) (update, error) {
	var u update
	var syntax *json.SyntaxError
	if err := json.Unmarshal(body, &u); errors.As(err, &syntax) {
		return update{}, errMalformed
	} else if err != nil {
		return update{}, unusable("%s", typeProblem(err))
	}
	if u.ID == nil {
		return update{}, unusable("no update_id")
	}
	return u, nil
}

// decodeMessage is the second stage for a message; note names a field of an
// unexpected type that was left empty.
func decodeMessage(raw json.RawMessage) (m *message, note string, err error) {
	m = &message{}
	if note, err = decodePart(raw, "message", m); err != nil {
		return nil, "", err
	}
	if err := json.Unmarshal(raw, &m.keys); err != nil {
		m.keys = nil // not an object: decodePart found no chat in it either
	}
	return m, note, nil
}

// decodePart decodes one kind of update into v, leniently: a field of an unexpected
// type is left empty and named in note, and the rest is read; what is then missing
// (a chat, its id) makes the update unusable where it is checked.
func decodePart(raw json.RawMessage, kind string, v any) (note string, err error) {
	err = json.Unmarshal(raw, v)
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &te):
		return kind + ": " + typeProblem(err), nil
	case err != nil:
		return "", unusable("%s: %s", kind, typeProblem(err))
	}
	return "", nil
}

// typeProblem names a decoding failure without quoting the citizen's data.
func typeProblem(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		// Value is "number 84912345678" for a number: keep its kind, never the value.
		kind, _, _ := strings.Cut(te.Value, " ")
		if te.Field == "" {
			return fmt.Sprintf("a JSON %s where an object was expected", kind)
		}
		return fmt.Sprintf("field %s is a JSON %s, not %s", te.Field, kind, te.Type)
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
