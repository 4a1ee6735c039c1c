package zalo

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"path"
	"strconv"
	"strings"
	"time"

	json "github.com/go-json-experiment/json/v1"

	"github.com/sangkien/sangkien/bot"
)

// Parse turns one webhook body into the events the engine runs. An event the gateway
// does not use (an echo of the OA's own send, a read receipt, an unknown kind) gives no
// events and no error; a body that is not a Zalo event, or an event without the user it
// is about, is an error. Parse does not check the signature: the webhook does.
func Parse(body []byte) ([]bot.Event, error) {
	var env envelope
	if err := json.Unmarshal(body, &env); err != nil {
		return nil, fmt.Errorf("zalo event: %w", err)
	}
	at, err := eventTime(env.Timestamp)
	if err != nil {
		return nil, fmt.Errorf("zalo event: %w", err)
	}
	p, err := parse(env, body, at, FileURLs{Hosts: DefaultFileHosts()})
	return p.events, err
}

// envelope is the part of a Zalo event the gateway reads. Ids, sizes, timestamps and
// coordinates arrive as JSON strings, sometimes as numbers: they are read as flexString,
// never through float64 (user ids are 18–19 digits and would lose their last ones).
// Attachment payloads and the submitted info stay raw until the event kind says what
// they hold, so an odd payload of an event the gateway does not use cannot make the
// whole body unreadable (Zalo would deliver it again and again).
type envelope struct {
	EventName string          `json:"event_name"`
	Timestamp flexString      `json:"timestamp"`
	Sender    party           `json:"sender"`
	Recipient party           `json:"recipient"`
	Follower  party           `json:"follower"`
	Message   message         `json:"message"`
	Info      json.RawMessage `json:"info"`
}

type party struct {
	ID flexString `json:"id"`
	// AdminID is set on the sender of an oa_send_* event when a person wrote the
	// message in Zalo's OA chat tool; the OA's API sends (the gateway's own) have none.
	AdminID flexString `json:"admin_id"`
}

type message struct {
	MsgID       flexString   `json:"msg_id"`
	Text        string       `json:"text"`
	Attachments []attachment `json:"attachments"`
}

type attachment struct {
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload"`
}

// filePayload is the payload of an image or a file.
type filePayload struct {
	URL       string     `json:"url"`
	Thumbnail string     `json:"thumbnail"`
	Name      string     `json:"name"`
	Size      flexString `json:"size"`
	Type      string     `json:"type"` // a file's extension: "pdf", "docx"
}

type locationPayload struct {
	Coordinates struct {
		Latitude  flexString `json:"latitude"`
		Longitude flexString `json:"longitude"`
	} `json:"coordinates"`
}

// submittedInfo is what a citizen filled in Zalo's "share your information" form
// (the answer to a request_user_info message). Zalo sends user_dob and gender too; the
// gateway does not ask for them and does not keep them. Older OAs' forms sent the
// address flat (address, ward, district, city), newer ones in full_address.
type submittedInfo struct {
	Name        string `json:"name"`
	Phone       string `json:"phone"`
	FullAddress struct {
		Address string `json:"user_address"`
		Ward    string `json:"user_ward"`
		City    string `json:"user_city"`
	} `json:"full_address"`
	Address  string `json:"address"`
	Ward     string `json:"ward"`
	District string `json:"district"`
	City     string `json:"city"`
}

// address is the submitted address as one line, street first.
func (i submittedInfo) address() string {
	parts := []string{i.FullAddress.Address, i.FullAddress.Ward, i.FullAddress.City}
	if strings.TrimSpace(strings.Join(parts, "")) == "" {
		parts = []string{i.Address, i.Ward, i.District, i.City}
	}
	var out []string
	for _, p := range parts {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, ", ")
}

// flexString takes a JSON string or a bare number as its text, exactly as sent.
type flexString string

func (s *flexString) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case bytes.Equal(b, []byte("null")):
		*s = ""
	case len(b) > 0 && b[0] == '"':
		var v string
		if err := json.Unmarshal(b, &v); err != nil {
			return err
		}
		*s = flexString(v)
	case len(b) > 0 && (b[0] == '-' || b[0] >= '0' && b[0] <= '9'):
		*s = flexString(b)
	default:
		return fmt.Errorf("want a string or a number, got %.20s", b)
	}
	return nil
}

// parsed is what one event means to the webhook.
type parsed struct {
	events []bot.Event
	// skip says why an event gives no events ("echo", "receipt", "unknown event").
	skip string
}

// unsupportedEvents are the message kinds a citizen may send that the gateway does not
// read; each gets the polite answer naming what is accepted.
var unsupportedEvents = map[string]string{
	"user_send_sticker":       "sticker",
	"user_send_gif":           "gif",
	"user_send_audio":         "audio",
	"user_send_video":         "video",
	"user_send_link":          "link",
	"user_send_business_card": "business_card",
}

func parse(env envelope, body []byte, at time.Time, hosts FileURLs) (parsed, error) {
	name := env.EventName
	switch {
	case name == "":
		return parsed{}, errors.New("zalo event: no event_name")
	case strings.HasPrefix(name, "oa_send_"):
		// The OA's own sends come back as events. Those of the API (the gateway's own
		// replies) are not news; a person's, written in Zalo's OA chat tool, carry their
		// admin_id: staff answered the citizen outside the gateway.
		if strings.TrimSpace(string(env.Sender.AdminID)) == "" {
			return parsed{skip: "echo " + name}, nil
		}
		return staffMessage(env, body, at)
	case name == "user_received_message", name == "user_seen_message":
		return parsed{skip: "receipt " + name}, nil
	}
	user := env.Sender.ID
	if name == "follow" || name == "unfollow" {
		user = env.Follower.ID
	}
	ev := bot.Event{ID: eventID(env, body), At: at}
	switch name {
	case "user_send_text":
		ev.Kind, ev.Text = bot.EventText, env.Message.Text
	case "user_send_image", "user_send_file":
		atts, err := files(env.Message)
		if err != nil {
			return parsed{}, fmt.Errorf("zalo %s: %w", name, err)
		}
		ev.Kind, ev.Text, ev.Attachments = bot.EventAttachments, env.Message.Text, atts
		if !onHosts(atts, hosts) {
			// The media proxy fetches only from Zalo's file servers: the city would get
			// a link that cannot answer. The citizen is asked to send the file again.
			ev.Kind, ev.Text, ev.Attachments, ev.Unsupported = bot.EventUnsupported, "", nil, bot.UnsupportedFileElsewhere
		}
	case "user_send_location":
		loc, err := location(env.Message)
		if err != nil {
			return parsed{}, fmt.Errorf("zalo %s: %w", name, err)
		}
		ev.Kind, ev.Location = bot.EventLocation, loc
	case "follow":
		ev.Kind = bot.EventFollow
	case "unfollow":
		ev.Kind = bot.EventUnfollow
	case "user_submit_info":
		var info submittedInfo
		if len(env.Info) > 0 {
			if err := json.Unmarshal(env.Info, &info); err != nil {
				return parsed{}, fmt.Errorf("zalo %s: info: %w", name, err)
			}
		}
		// The form is filled in the citizen's own Zalo app: the phone is theirs.
		ev.Kind = bot.EventContact
		ev.Contact = &bot.Contact{Name: strings.TrimSpace(info.Name), Phone: strings.TrimSpace(info.Phone), Address: info.address(), Own: true}
	default:
		kind, ok := unsupportedEvents[name]
		if !ok {
			return parsed{skip: "unknown event " + name}, nil
		}
		ev.Kind, ev.Unsupported = bot.EventUnsupported, kind
	}
	if !validUserID(string(user)) {
		return parsed{}, fmt.Errorf("zalo %s: no usable user id", name)
	}
	ev.Conversation = bot.ConversationRef{Channel: bot.Zalo, ID: string(user)}
	return parsed{events: []bot.Event{ev}}, nil
}

// staffMessage is an oa_send_* event a person wrote in Zalo's OA chat tool: the
// citizen is the recipient. A message without text (an image, a sticker) is named by
// its kind, for the transcript.
func staffMessage(env envelope, body []byte, at time.Time) (parsed, error) {
	user := string(env.Recipient.ID)
	if !validUserID(user) {
		return parsed{}, fmt.Errorf("zalo %s: no usable recipient id", env.EventName)
	}
	text := strings.TrimSpace(env.Message.Text)
	if text == "" {
		text = "[" + strings.TrimPrefix(env.EventName, "oa_send_") + "]"
	}
	return parsed{events: []bot.Event{{
		ID: eventID(env, body), At: at, Kind: bot.EventStaffMessage, Text: text,
		Conversation: bot.ConversationRef{Channel: bot.Zalo, ID: user},
	}}}, nil
}

// eventID is the message's msg_id, which a redelivery repeats. Events without one
// (follow, unfollow, user_submit_info) are named by a hash of the body: a redelivery
// repeats the body byte for byte, while a second follow carries a new timestamp.
func eventID(env envelope, body []byte) string {
	if id := strings.TrimSpace(string(env.Message.MsgID)); id != "" && validEventID(id) {
		return id
	}
	sum := sha256.Sum256(body)
	return "h" + hex.EncodeToString(sum[:16])
}

// validEventID keeps ids that are safe in a Redis key and short.
func validEventID(id string) bool {
	if len(id) > 128 {
		return false
	}
	for _, r := range id {
		if !(r == '_' || r == '-' || r == '.' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return false
		}
	}
	return true
}

// validUserID accepts Zalo's user ids: digits only.
func validUserID(id string) bool {
	if id == "" || len(id) > 32 {
		return false
	}
	for i := 0; i < len(id); i++ {
		if id[i] < '0' || id[i] > '9' {
			return false
		}
	}
	return true
}

// files reads the attachments of an image or file message.
func files(m message) ([]bot.Attachment, error) {
	var out []bot.Attachment
	for i, a := range m.Attachments {
		var p filePayload
		if err := json.Unmarshal(a.Payload, &p); err != nil {
			return nil, fmt.Errorf("attachment %d: %w", i, err)
		}
		if p.URL == "" {
			return nil, fmt.Errorf("attachment %d: no url", i)
		}
		att := bot.Attachment{Kind: bot.Photo, Ref: p.URL}
		if a.Type == "file" {
			att.Kind, att.Name = bot.Document, fileName(p.Name, p.Type)
		}
		if n, err := strconv.ParseInt(string(p.Size), 10, 64); err == nil && n > 0 {
			att.Size = n
		}
		out = append(out, att)
	}
	if len(out) == 0 {
		return nil, errors.New("no attachments")
	}
	return out, nil
}

// onHosts reports whether every attachment's URL is one the media proxy may fetch.
func onHosts(atts []bot.Attachment, hosts FileURLs) bool {
	for _, a := range atts {
		if _, err := hosts.Resolve(context.Background(), a.Ref); err != nil {
			return false
		}
	}
	return true
}

// fileName gives a name its extension when Zalo sent it apart ("type": "pdf"): the
// flows accept documents by MIME type or extension, and Zalo sends no MIME type.
func fileName(name, ext string) string {
	name = strings.TrimSpace(name)
	ext = strings.Trim(strings.TrimSpace(ext), ".")
	if ext != "" && path.Ext(name) == "" {
		return name + "." + ext
	}
	return name
}

// location reads a shared location; Zalo sends the coordinates as strings.
func location(m message) (*bot.Location, error) {
	for _, a := range m.Attachments {
		if a.Type != "location" {
			continue
		}
		var p locationPayload
		if err := json.Unmarshal(a.Payload, &p); err != nil {
			return nil, fmt.Errorf("location: %w", err)
		}
		lat, err1 := strconv.ParseFloat(strings.TrimSpace(string(p.Coordinates.Latitude)), 64)
		lon, err2 := strconv.ParseFloat(strings.TrimSpace(string(p.Coordinates.Longitude)), 64)
		// ParseFloat reads "NaN" and "Inf", which pass comparisons with < and >; a NaN
		// would later make the session unencodable as JSON.
		if err1 != nil || err2 != nil || !finite(lat) || !finite(lon) || lat < -90 || lat > 90 || lon < -180 || lon > 180 {
			return nil, errors.New("location: coordinates out of range or unreadable")
		}
		return &bot.Location{Lat: lat, Lon: lon, Label: strings.TrimSpace(m.Text)}, nil
	}
	return nil, errors.New("no location attachment")
}

func finite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }

// eventTime reads an event's timestamp: milliseconds since 1970, as Zalo documents
// and sends it. A value of eleven digits or fewer is taken as seconds, which a sender
// that got the unit wrong would give; either way the webhook's window check decides.
// Anything but a positive whole number of at most 16 digits (past the year 2286 in
// milliseconds) is an error, so no later arithmetic can overflow.
func eventTime(s flexString) (time.Time, error) {
	v := strings.TrimSpace(string(s))
	if v == "" {
		return time.Time{}, errors.New("no timestamp")
	}
	if len(v) > 16 || !digits(v) {
		return time.Time{}, fmt.Errorf("timestamp %.20q is not milliseconds since 1970", v)
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n <= 0 {
		return time.Time{}, fmt.Errorf("timestamp %.20q is not milliseconds since 1970", v)
	}
	if n < 1e11 {
		return time.Unix(n, 0).UTC(), nil
	}
	return time.UnixMilli(n).UTC(), nil
}
