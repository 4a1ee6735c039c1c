package bot_test

import (
	"strings"
	"testing"
	"time"

	"github.com/sangkien/sangkien/bot"
)

const programsYAML = `
programs:
  - id: xanh
    name: {vi: "Thủ đô xanh", en: "Green capital"}
    description: {vi: "Cây xanh", en: "Trees"}
    opens: "2026-01-01"
    deadline: "2026-12-31 23:59"
    fields:
      - {id: cay-xanh, name: {vi: "Cây xanh", en: "Trees"}, service_code: "101"}
  - id: so
    name: {vi: "Chuyển đổi số", en: "Digital"}
    opens: "2027-01-01T00:00:00+07:00"
    deadline: "2027-06-30"
    fields:
      - {id: dich-vu, name: {vi: "Dịch vụ công", en: "Public services"}}
`

func TestLoadPrograms(t *testing.T) {
	ps, err := bot.LoadPrograms(strings.NewReader(programsYAML))
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 2 {
		t.Fatalf("loaded %d programs", len(ps))
	}
	xanh, ok := ps.Get("xanh")
	if !ok || xanh.Name.In("en") != "Green capital" || xanh.Name.In("vi") != "Thủ đô xanh" || xanh.Name.In("fr") != "Thủ đô xanh" {
		t.Fatalf("program xanh = %+v", xanh)
	}
	if want := time.Date(2026, 12, 31, 23, 59, 0, 0, bot.HoChiMinh); !xanh.Deadline.Equal(want) {
		t.Errorf("deadline = %v, want %v (Hanoi time)", xanh.Deadline, want)
	}
	if f, ok := xanh.Field("cay-xanh"); !ok || f.ServiceCode != "101" {
		t.Errorf("field = %+v, %v", f, ok)
	}
	if _, ok := xanh.Field("none"); ok {
		t.Error("found a field that is not there")
	}
	if _, ok := ps.Get("none"); ok {
		t.Error("found a program that is not there")
	}
	nov := time.Date(2026, 11, 28, 9, 0, 0, 0, bot.HoChiMinh)
	if open := ps.OpenAt(nov); len(open) != 1 || open[0].ID != "xanh" {
		t.Errorf("open in November 2026 = %v", open)
	}
	if open := ps.OpenAt(time.Date(2027, 7, 1, 0, 0, 0, 0, bot.HoChiMinh)); len(open) != 0 {
		t.Errorf("open after every deadline = %v", open)
	}
}

func TestLoadProgramsRefusesBadFiles(t *testing.T) {
	field := `fields: [{id: f, name: {vi: "Lĩnh vực", en: "Field"}}]`
	for name, body := range map[string]string{
		"not yaml":        "programs: [",
		"unknown key":     "programs:\n  - id: a\n    colour: red\n",
		"no id":           `programs: [{name: {vi: "A", en: "A"}, opens: "2026-01-01", deadline: "2026-02-01", ` + field + `}]`,
		"no english name": `programs: [{id: a, name: {vi: "A"}, opens: "2026-01-01", deadline: "2026-02-01", ` + field + `}]`,
		"twice":           `programs: [{id: a, name: {vi: "A", en: "A"}, opens: "2026-01-01", deadline: "2026-02-01", ` + field + `}, {id: a, name: {vi: "A", en: "A"}, opens: "2026-01-01", deadline: "2026-02-01", ` + field + `}]`,
		"long id":         `programs: [{id: ` + strings.Repeat("a", 33) + `, name: {vi: "A", en: "A"}, opens: "2026-01-01", deadline: "2026-02-01", ` + field + `}]`,
		"no fields":       `programs: [{id: a, name: {vi: "A", en: "A"}, opens: "2026-01-01", deadline: "2026-02-01"}]`,
		"unnamed field":   `programs: [{id: a, name: {vi: "A", en: "A"}, opens: "2026-01-01", deadline: "2026-02-01", fields: [{id: f}]}]`,
		"bad opening":     `programs: [{id: a, name: {vi: "A", en: "A"}, opens: "soon", deadline: "2026-02-01", ` + field + `}]`,
		"bad deadline":    `programs: [{id: a, name: {vi: "A", en: "A"}, opens: "2026-01-01", deadline: "31/12/2026", ` + field + `}]`,
		"deadline first":  `programs: [{id: a, name: {vi: "A", en: "A"}, opens: "2026-03-01", deadline: "2026-02-01", ` + field + `}]`,
	} {
		if _, err := bot.LoadPrograms(strings.NewReader(body)); err == nil {
			t.Errorf("%s: loaded without error", name)
		}
	}
}

func TestSummarize(t *testing.T) {
	for _, c := range []struct {
		ev   bot.Event
		want string
	}{
		{bot.Event{Kind: bot.EventText, Text: "xin chào"}, "xin chào"},
		{bot.Event{Kind: bot.EventCommand, Command: "start", Payload: "xanh"}, "/start xanh"},
		{bot.Event{Kind: bot.EventButton, Payload: "agree"}, "[agree]"},
		{bot.Event{Kind: bot.EventContact, Contact: &bot.Contact{Name: "An", Phone: "+84912345678"}}, "[contact] An +84912345678"},
		{bot.Event{Kind: bot.EventContact}, "[contact]"},
		{bot.Event{Kind: bot.EventLocation, Location: &bot.Location{Lat: 21.0285, Lon: 105.8542, Label: "Hồ Gươm"}}, "[location] 21.028500,105.854200 Hồ Gươm"},
		{bot.Event{Kind: bot.EventLocation}, "[location]"},
		{bot.Event{Kind: bot.EventAttachments, Text: "ảnh", Attachments: []bot.Attachment{{Kind: bot.Photo}, {Kind: bot.Document, Name: "a.pdf"}}}, "[photo:, document:a.pdf] ảnh"},
		{bot.Event{Kind: bot.EventUnsupported, Unsupported: "voice"}, "[voice]"},
		{bot.Event{Kind: bot.EventFollow}, "[follow]"},
	} {
		if got := bot.Summarize(c.ev); got != c.want {
			t.Errorf("Summarize(%s) = %q, want %q", c.ev.Kind, got, c.want)
		}
	}
}

func TestSendErrorCarriesItsMeaning(t *testing.T) {
	base := &bot.SendError{Failure: bot.RateLimited, Code: 429, Detail: "Too Many Requests", RetryAfter: 3 * time.Second, Err: bot.ErrBusy}
	if s := base.Error(); !strings.Contains(s, "rate-limited") || !strings.Contains(s, "retry after 3s") || !strings.Contains(s, "429") {
		t.Errorf("Error() = %q", s)
	}
	if base.Unwrap() != bot.ErrBusy {
		t.Error("Unwrap lost the cause")
	}
	for f, want := range map[bot.SendFailure]string{bot.Retryable: "retryable", bot.Permanent: "permanent", bot.Gone: "gone", bot.Held: "held", bot.SendFailure(42): "failure(42)"} {
		if f.String() != want {
			t.Errorf("%d.String() = %q, want %q", int(f), f.String(), want)
		}
	}
	if got := (bot.ConversationRef{Channel: bot.Zalo, ID: "77"}).String(); got != "zl:77" {
		t.Errorf("conversation key = %q", got)
	}
}
