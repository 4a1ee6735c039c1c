package bot_test

import (
	"reflect"
	"testing"
	"time"

	json "github.com/go-json-experiment/json/v1"

	"github.com/sangkien/sangkien/bot"
)

// proposalAt is a proposal with every field set, as a draft and a submission hold it.
func proposalAt() (bot.Proposal, time.Time) {
	return bot.Proposal{Kind: bot.KindInitiative, ProgramID: "p", Field: "f", Title: "t", Description: "de", Benefit: "b",
		Location: &bot.Location{Lat: 21, Lon: 105}, LocationText: "lt", Attachments: []bot.Attachment{{Kind: "photo", Ref: "r"}},
		Topic: "to", TopicRef: "tr", Rating: 4, Comment: "c"}, time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
}

// The submission's JSON is what the intake reads: the embedded proposal keeps it flat
// and in the order it had when the fields were the submission's own.
func TestSubmissionJSONUnchanged(t *testing.T) {
	p, at := proposalAt()
	s := bot.Submission{ID: "s1", Reference: "SK-1", Proposal: p,
		Contact:      bot.SubmitterContact{Name: "n", Phone: "+84", Email: "e@x"},
		Conversation: bot.ConversationRef{Channel: bot.Telegram, ID: "1"}, Lang: "vi", ConsentAt: at, NoticeVersion: "v", SubmittedAt: at}
	const want = `{"id":"s1","reference":"SK-1","kind":"initiative","program_id":"p","field":"f","title":"t",` +
		`"description":"de","benefit":"b","location":{"lat":21,"lon":105},"location_text":"lt",` +
		`"attachments":[{"kind":"photo","ref":"r"}],"topic":"to","topic_ref":"tr","rating":4,"comment":"c",` +
		`"contact":{"name":"n","phone":"+84","email":"e@x"},"conversation":{"channel":"telegram","id":"1"},` +
		`"lang":"vi","consent_at":"2026-11-30T09:00:00Z","notice_version":"v","submitted_at":"2026-11-30T09:00:00Z"}`
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != want {
		t.Errorf("submission JSON\n got  %s\n want %s", b, want)
	}
}

// A draft stored before Proposal existed (the same keys, the contact in the middle)
// reads back whole, and a draft stored now holds the same keys and values: sessions
// in Redis survive the change both ways (a rolling deploy runs both versions).
func TestDraftJSONCompatible(t *testing.T) {
	const stored = `{"id":"d1","kind":"initiative","program_id":"p","field":"f","title":"t","description":"de",` +
		`"benefit":"b","location":{"lat":21,"lon":105},"location_text":"lt","attachments":[{"kind":"photo","ref":"r"}],` +
		`"name":"n","phone":"+84","email":"e@x","topic":"to","topic_ref":"tr","rating":4,"comment":"c",` +
		`"started":"2026-11-30T09:00:00Z"}`
	p, at := proposalAt()
	want := bot.Draft{ID: "d1", Proposal: p, SubmitterContact: bot.SubmitterContact{Name: "n", Phone: "+84", Email: "e@x"}, Started: at}
	var got bot.Draft
	if err := json.Unmarshal([]byte(stored), &got); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("stored draft read as %+v, want %+v", got, want)
	}
	b, err := json.Marshal(want)
	if err != nil {
		t.Fatal(err)
	}
	var old, now map[string]any
	if err := json.Unmarshal([]byte(stored), &old); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &now); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(now, old) {
		t.Errorf("draft JSON\n got  %s\n want the keys and values of %s", b, stored)
	}
}
