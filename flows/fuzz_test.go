package flows

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	json "github.com/go-json-experiment/json/v1"
	"github.com/nyaruka/phonenumbers"

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
		if s.State.OfferedMenu {
			return bot.Event{Kind: bot.EventButton, Payload: "cmd:" + menuItems[int(arg)%len(menuItems)].command}
		}
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
	if n := len(res.Replies); n > 0 && !slices.Equal(r.Offered(s), res.Replies[n-1].Choices) {
		t.Fatalf("offered %+v is not the last reply's choices", r.Offered(s))
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

// FuzzNormalizePhone holds what the phone steps rely on: an accepted number is E.164
// (a plus, a country code, at most 15 digits), valid as written, and normalizes to
// itself; a Vietnamese one is a mobile number.
func FuzzNormalizePhone(f *testing.F) {
	for _, s := range []string{"0912345678", "091.234.5678", "(+84)912-345-678", "+84 0912 345 678",
		"0084 912 345 678", "84912345678", "024 3825 1234", "+44 7911 123456", "447911123456",
		"+7 916 123-45-67", "0912\u00a0345\u00a0678", "-0912345678", "0912++345678", "840912345678",
		"+1 212 736 5000", "+84 24 3825 1234", "0000000000000000", "+", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, ok := normalizePhone(s)
		if !ok {
			if p != "" {
				t.Fatalf("normalizePhone(%q) refused it but returned %q", s, p)
			}
			return
		}
		if len(p) < 8 || len(p) > 16 || p[0] != '+' || p[1] == '0' || strings.Trim(p[1:], "0123456789") != "" {
			t.Fatalf("normalizePhone(%q) = %q: not E.164", s, p)
		}
		n, err := phonenumbers.Parse(p, "")
		if err != nil || !phonenumbers.IsValidNumber(n) || phonenumbers.Format(n, phonenumbers.E164) != p {
			t.Fatalf("normalizePhone(%q) = %q: not a valid number as written (%v)", s, p, err)
		}
		if n.GetCountryCode() == 84 {
			if typ := phonenumbers.GetNumberType(n); typ != phonenumbers.MOBILE && typ != phonenumbers.FIXED_LINE_OR_MOBILE {
				t.Fatalf("normalizePhone(%q) = %q: a Vietnamese number that is no mobile one", s, p)
			}
		}
		if again, ok := normalizePhone(p); !ok || again != p {
			t.Fatalf("normalizePhone(%q) = %q, but normalizePhone(%q) = %q, %v", s, p, p, again, ok)
		}
	})
}

// FuzzNormalizeName holds what the name step and a shared contact rely on: a name is
// read as singleLine(clean(text)); an accepted one is within the limits, valid UTF-8
// without controls, and reads as itself again. An accepted e-mail address normalizes to
// itself too.
func FuzzNormalizeName(f *testing.F) {
	for _, s := range []string{"Nguyễn Thị Lan", "Trần Văn Minh", "Anna Müller", "O'Brien-Smith Jr.",
		"Nguye\u0302\u0303n", "Lê\u200bHoàng\u202eNam", "  Lan\r\nNguyen\t", "x", "12345", "lan.nguyen@Example.VN",
		"\xff\xfeLan", "Nam\x1b[31m", "a\u0301\u0301\u0301"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		name := singleLine(clean(s))
		if validName(name) {
			if n := runes(name); n < nameMin || n > nameMax || !utf8.ValidString(name) {
				t.Fatalf("name %q from %q accepted: %d runes, valid UTF-8 %v", name, s, n, utf8.ValidString(name))
			}
			if strings.ContainsFunc(name, unicode.IsControl) {
				t.Fatalf("name %q from %q accepted with a control character", name, s)
			}
			if again := singleLine(clean(name)); again != name || !validName(again) {
				t.Fatalf("name %q from %q reads as %q (valid %v) the second time", name, s, again, validName(again))
			}
		}
		if e, ok := normalizeEmail(s); ok {
			if again, ok := normalizeEmail(e); !ok || again != e {
				t.Fatalf("normalizeEmail(%q) = %q, but normalizeEmail(%q) = %q, %v", s, e, e, again, ok)
			}
		}
	})
}

// stepSnapshot is a session as the golden transcripts leave it, at one step of a flow
// (or a pending question, or the menu), with the clock of that moment.
type stepSnapshot struct {
	key     string
	session []byte // as the store keeps it
	now     time.Time
	lang    string
}

// stepSnapshots plays every golden transcript in both languages and keeps one session
// of each distinct place a citizen can be at: flow, step, pending question, editing
// from the review, mode. It fails when a step of a flow is never reached, so that a
// new step gets a transcript, and with it a place in FuzzStepInput.
func stepSnapshots(f *testing.F) (*Router, *time.Time, []stepSnapshot) {
	f.Helper()
	var snaps []stepSnapshot
	seen := map[string]bool{}
	var r *Router
	for _, lang := range []string{"vi", "en"} {
		for _, tc := range transcripts(lang) {
			start := tc.start
			if start.IsZero() {
				start = testStart
			}
			h := newHarness(f, hints[lang], start)
			r = h.r
			for _, a := range tc.acts {
				h.do(context.Background(), a)
				st := h.s.State
				key := fmt.Sprintf("%s/%s pending=%s editing=%v mode=%s lang=%s", st.Flow, st.Step, st.Pending,
					st.Editing, h.s.Profile.Mode, h.s.Profile.Lang)
				if seen[key] {
					continue
				}
				seen[key] = true
				b, err := json.Marshal(h.s)
				if err != nil {
					f.Fatal(err)
				}
				snaps = append(snaps, stepSnapshot{key: key, session: b, now: h.now, lang: hints[lang]})
			}
		}
	}
	for name, fl := range r.flows {
		for step := range fl.steps {
			if !slices.ContainsFunc(snaps, func(s stepSnapshot) bool { return strings.HasPrefix(s.key, name+"/"+step+" ") }) {
				f.Fatalf("no golden transcript reaches %s/%s: FuzzStepInput cannot start there", name, step)
			}
		}
	}
	now := testStart
	fr, err := NewRouter(Config{Programs: loadTestPrograms(f), Catalog: testCatalog(f), Refs: newFakeRefs(),
		Now: func() time.Time { return now }})
	if err != nil {
		f.Fatal(err)
	}
	return fr, &now, snaps
}

// FuzzStepInput answers a step of a flow (any place the golden transcripts reach, by
// its index) with one fuzzed input: the citizen always gets an answer, and the session
// is left at a step that exists, as FuzzRouter checks.
func FuzzStepInput(f *testing.F) {
	r, now, snaps := stepSnapshots(f)
	type input struct {
		op, arg byte
		text    string
	}
	inputs := []input{
		{opText, 0, "Trồng cây xanh trên mái trường học"}, {opText, 0, "0912 345 678"},
		{opText, 0, "Nguyễn Thị Lan"}, {opText, 0, "lan.nguyen@Example.VN"}, {opText, 0, "hủy"},
		{opText, 0, "quay lại"}, {opText, 0, "1"}, {opText, 0, "\xff\u202e\x00"}, {opOffered, 1, ""},
		{opPayload, 0, "edit:title"}, {opPayload, 0, "program:không-có"}, {opCommand, 0, "prog_thu-do-xanh-2027"},
		{opContact, 1, "+84 (90) 123-4567"}, {opLocation, 121, "Hồ Hoàn Kiếm"}, {opAttachments, 5, "ke-hoach.pdf"},
		{opUnsupported, 0, "sticker"}, {opFollow, 0, ""},
	}
	for _, in := range inputs {
		f.Add(uint16(0), in.op, in.arg, in.text)
	}
	for i := range snaps { // each place gets one seed, the inputs in turn
		in := inputs[i%len(inputs)]
		f.Add(uint16(i), in.op, in.arg, in.text)
	}
	f.Fuzz(func(t *testing.T, place uint16, op, arg byte, text string) {
		snap := snaps[int(place)%len(snaps)]
		s := &bot.Session{}
		if err := json.Unmarshal(snap.session, s); err != nil {
			t.Fatal(err)
		}
		if op %= opCount; op == opWait {
			op = opText
		}
		ev := fuzzEvent(op, arg, text, s)
		*now = snap.now.Add(time.Minute)
		ev.ID, ev.Conversation, ev.Lang, ev.At = "step-input", s.Conversation, snap.lang, *now
		res, err := r.Respond(context.Background(), s, ev)
		if err != nil {
			t.Fatalf("at %s, event %s: %v", snap.key, bot.Summarize(ev), err)
		}
		checkResult(t, r, s, ev, res)
	})
}
