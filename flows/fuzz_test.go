package flows

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/sangkien/sangkien/bot"
)

// fuzzOps are what a fuzzed citizen can do; each takes one byte of argument and
// an optional text.
const (
	opText byte = iota
	opOffered
	opCommand
	opContact
	opLocation
	opAttachments
	opUnsupported
	opFollow
	opWait
	opPayload
	opCount
)

var fuzzCommands = []string{"start", "menu", "help", "cancel", "back", "language", "lang", "status",
	"human", "operator", "stop", "subscribe", "forget", "initiative", "feedback", "nonsense"}

// encode builds a fuzz input from (op, arg, text) triples, for the seeds.
func encode(steps ...any) []byte {
	var b []byte
	for i := 0; i+2 < len(steps); i += 3 {
		text := steps[i+2].(string)
		b = append(b, steps[i].(byte), byte(steps[i+1].(int)), byte(len(text)))
		b = append(b, text...)
	}
	return b
}

// FuzzRouter feeds random conversations to the Router: nothing may fail, panic, leave
// the citizen without an answer, or leave the session at a step that does not exist.
func FuzzRouter(f *testing.F) {
	f.Add(encode(
		opCommand, 0, "", opOffered, 0, "", opOffered, 0, "", opOffered, 1, "", opOffered, 0, "",
		opText, 0, "Ứng dụng báo hỏng đèn đường", opText, 0, "Một mô tả đủ dài để vượt qua năm mươi ký tự của bước mô tả.",
		opOffered, 0, "", opText, 0, "Lợi ích rất rõ ràng cho người dân", opLocation, 7, "",
		opAttachments, 3, "", opOffered, 0, "", opText, 0, "Nguyễn Văn An", opContact, 1, "0912345678",
		opOffered, 0, "", opPayload, 0, "submit"))
	f.Add(encode(opCommand, 14, "", opOffered, 2, "", opText, 0, "5", opText, 0, "tốt lắm", opOffered, 0, "",
		opOffered, 0, "", opContact, 0, "+84 912 345 678", opWait, 30, "", opText, 0, "huy", opText, 0, "1"))
	f.Add(encode(opText, 0, "hủy", opText, 0, "quay lại", opText, 0, "xoa du lieu", opText, 0, "có",
		opUnsupported, 0, "", opFollow, 1, "", opWait, 255, "", opPayload, 0, "edit:title"))
	f.Add(encode(opCommand, 3, "", opCommand, 13, "do-thi-thong-minh", opPayload, 0, "lang:en", opText, 0, "\xff\xfe",
		opPayload, 0, "topic:submission:SK-2026-000001", opCommand, 8, "", opText, 0, "help"))
	f.Add([]byte{})

	programs := loadTestPrograms(f)
	cat := testCatalog(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		now := testStart
		r, err := NewRouter(Config{Programs: programs, Catalog: cat, Refs: newFakeRefs(), Now: func() time.Time { return now }})
		if err != nil {
			t.Fatal(err)
		}
		s := &bot.Session{Conversation: bot.ConversationRef{Channel: bot.Zalo, ID: "fuzz"}, New: true}
		for i := 0; len(data) >= 3 && i < 200; i++ {
			op, arg, n := data[0]%opCount, data[1], int(data[2])
			data = data[3:]
			text := string(data[:min(n, len(data))])
			data = data[min(n, len(data)):]
			ev := fuzzEvent(op, arg, text, s)
			if op == opWait {
				now = now.Add(time.Duration(arg) * 3 * time.Hour)
				continue
			}
			ev.ID, ev.Conversation, ev.At = fmt.Sprint(i), s.Conversation, now
			now = now.Add(time.Minute)
			res, err := r.Respond(context.Background(), s, ev)
			if err != nil {
				t.Fatalf("event %d %s: %v", i, bot.Summarize(ev), err)
			}
			checkResult(t, r, s, ev, res)
			s.New = false
			if res.Forget {
				s = &bot.Session{Conversation: s.Conversation, New: true}
			}
		}
	})
}

func fuzzEvent(op, arg byte, text string, s *bot.Session) bot.Event {
	switch op {
	case opText:
		return bot.Event{Kind: bot.EventText, Text: text}
	case opOffered:
		if n := len(s.State.Offered); n > 0 {
			return bot.Event{Kind: bot.EventButton, Payload: s.State.Offered[int(arg)%n].Payload}
		}
		return bot.Event{Kind: bot.EventText, Text: fmt.Sprint(arg % 8)}
	case opCommand:
		return bot.Event{Kind: bot.EventCommand, Command: fuzzCommands[int(arg)%len(fuzzCommands)], Payload: text}
	case opContact:
		return bot.Event{Kind: bot.EventContact, Contact: &bot.Contact{Name: "Lê " + text, Phone: text, Own: arg%2 == 1}}
	case opLocation:
		return bot.Event{Kind: bot.EventLocation, Location: &bot.Location{Lat: float64(arg) - 100, Lon: float64(arg), Label: text}}
	case opAttachments:
		var as []bot.Attachment
		for j := 0; j < int(arg%8); j++ {
			as = append(as, bot.Attachment{Kind: bot.AttachmentKind([]string{"photo", "document"}[j%2]),
				Ref: fmt.Sprint("f", j), Name: text, MIME: []string{"", "application/pdf", "video/mp4"}[j%3], Size: int64(arg) << 17})
		}
		return bot.Event{Kind: bot.EventAttachments, Attachments: as, Text: text}
	case opUnsupported:
		return bot.Event{Kind: bot.EventUnsupported, Unsupported: text}
	case opFollow:
		if arg%2 == 0 {
			return bot.Event{Kind: bot.EventUnfollow}
		}
		return bot.Event{Kind: bot.EventFollow}
	case opPayload:
		return bot.Event{Kind: bot.EventButton, Payload: text}
	}
	return bot.Event{}
}

var pendings = []string{"", pendingCancel, pendingDiscard, pendingForget, pendingResume, pendingFarPoint, pendingLanguage}

// checkResult holds the Router's promises after any event.
func checkResult(t *testing.T, r *Router, s *bot.Session, ev bot.Event, res bot.Result) {
	t.Helper()
	if len(res.Replies) == 0 && !res.Silent && ev.Kind != bot.EventUnfollow {
		t.Fatalf("event %s: no reply and not silent: a dead end (state %+v)", bot.Summarize(ev), s.State)
	}
	for _, rep := range res.Replies {
		if rep.Text == "" || missingKey.MatchString(rep.Text) {
			t.Fatalf("event %s: bad reply text %q", bot.Summarize(ev), rep.Text)
		}
		for _, c := range rep.Choices {
			if c.Label == "" || c.Payload == "" || len(c.Payload) > 64 || !utf8.ValidString(c.Label) {
				t.Fatalf("event %s: bad choice %+v", bot.Summarize(ev), c)
			}
		}
	}
	if n := len(res.Replies); n > 0 && !slices.Equal(s.State.Offered, res.Replies[n-1].Choices) {
		t.Fatalf("offered %+v is not the last reply's choices", s.State.Offered)
	}
	if !slices.Contains(pendings, s.State.Pending) {
		t.Fatalf("unknown pending question %q", s.State.Pending)
	}
	if s.State.Flow != "" {
		f := r.flows[s.State.Flow]
		if f == nil || f.steps[s.State.Step] == nil || s.State.Draft == nil {
			t.Fatalf("session left at %s/%s (draft %v)", s.State.Flow, s.State.Step, s.State.Draft != nil)
		}
	}
	if s.Profile.Lang != "vi" && s.Profile.Lang != "en" {
		t.Fatalf("language %q", s.Profile.Lang)
	}
}
