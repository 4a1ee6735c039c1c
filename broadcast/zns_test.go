package broadcast_test

import (
	"maps"
	"testing"
	"time"

	"github.com/sangkien/sangkien/bot"
	"github.com/sangkien/sangkien/broadcast"
)

var znsNow = time.Date(2026, 12, 3, 9, 0, 0, 0, bot.HoChiMinh())

func TestInZaloWindow(t *testing.T) {
	tests := []struct {
		name string
		last time.Time
		want bool
	}{
		{"wrote an hour ago", znsNow.Add(-time.Hour), true},
		{"wrote six days ago", znsNow.Add(-6 * 24 * time.Hour), true},
		{"within the last hour of the week: kept clear of", znsNow.Add(-broadcast.ZaloWindow + 30*time.Minute), false},
		{"a week ago", znsNow.Add(-broadcast.ZaloWindow), false},
		{"a month ago", znsNow.AddDate(0, -1, 0), false},
		{"never (a profile from before LastInbound)", time.Time{}, false},
	}
	for _, tt := range tests {
		if got := broadcast.InZaloWindow(bot.Profile{LastInbound: tt.last}, znsNow); got != tt.want {
			t.Errorf("%s: InZaloWindow = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// greenProgram has a ZNS template whose parameters name all three values.
func greenProgram() bot.Program {
	return bot.Program{
		ID: "xanh-2026", Name: bot.Text{VI: "Hà Nội xanh 2026", EN: "Green Hanoi 2026"},
		Opens: znsNow.AddDate(0, -1, 0), Deadline: time.Date(2026, 12, 15, 17, 0, 0, 0, bot.HoChiMinh()),
		ZNS: &bot.ZNSTemplate{ID: "7895417a7d3f9461cd2e", Params: map[string]string{
			"customer_name": "{{.Name}}", "program": "{{.Program}}", "deadline": "{{.Deadline}}",
			"note": "Hạn chót {{.Deadline}}",
		}},
	}
}

// lanSession is a Zalo citizen outside the window, with an unfinished initiative in
// the program and her phone, given after she accepted the notice.
func lanSession() bot.Session {
	d := &bot.Draft{ID: "d1", Proposal: bot.Proposal{Kind: bot.KindInitiative, ProgramID: "xanh-2026", Title: "Vườn trên mái"},
		SubmitterContact: bot.SubmitterContact{Name: " Nguyễn Thị Lan ", Phone: "+84912345678"}}
	return bot.Session{
		Conversation: bot.ConversationRef{Channel: bot.Zalo, ID: "7392845012349876543"},
		Profile: bot.Profile{Lang: "vi", Consent: &bot.Consent{At: znsNow.AddDate(0, 0, -20), NoticeVersion: "2026-01"},
			LastInbound: znsNow.AddDate(0, 0, -20)},
		State: bot.State{Flow: bot.KindInitiative, Step: "description", Draft: d},
	}
}

func TestZNSFor(t *testing.T) {
	m, ok := broadcast.ZNSFor(greenProgram(), lanSession(), "vi", znsNow)
	if !ok {
		t.Fatal("no ZNS message for a citizen with a draft, a phone and consent")
	}
	want := map[string]string{"customer_name": "Nguyễn Thị Lan", "program": "Hà Nội xanh 2026", "deadline": "17:00 15/12/2026",
		"note": "Hạn chót 17:00 15/12/2026"}
	if m.TemplateID != "7895417a7d3f9461cd2e" || m.Phone != "84912345678" || !maps.Equal(m.Data, want) {
		t.Errorf("ZNS message %+v, want data %v", m, want)
	}
	if m, _ := broadcast.ZNSFor(greenProgram(), lanSession(), "en", znsNow); m == nil || m.Data["program"] != "Green Hanoi 2026" {
		t.Errorf("in English: %+v", m)
	}
	utc := greenProgram()
	utc.Deadline = utc.Deadline.UTC()
	if m, _ := broadcast.ZNSFor(utc, lanSession(), "vi", znsNow); m == nil || m.Data["deadline"] != "17:00 15/12/2026" {
		t.Errorf("a deadline kept in UTC reads %+v, want Hanoi's time", m)
	}
}

// Each missing condition means no substitute: the reminder is skipped as "zalo window".
func TestZNSForSkips(t *testing.T) {
	tests := []struct {
		name   string
		change func(p *bot.Program, s *bot.Session)
	}{
		{"the program has no template", func(p *bot.Program, _ *bot.Session) { p.ZNS = nil }},
		{"a template without an id", func(p *bot.Program, _ *bot.Session) { p.ZNS.ID = "" }},
		{"a template without parameters", func(p *bot.Program, _ *bot.Session) { p.ZNS.Params = nil }},
		{"not on Zalo", func(_ *bot.Program, s *bot.Session) {
			s.Conversation = bot.ConversationRef{Channel: bot.Telegram, ID: "4242"}
		}},
		{"said stop", func(_ *bot.Program, s *bot.Session) { s.Profile.OptedOut = true }},
		{"left the OA", func(_ *bot.Program, s *bot.Session) { s.Profile.Unreachable = true }},
		{"no consent (declined, or withdrew it)", func(_ *bot.Program, s *bot.Session) { s.Profile.Consent = nil }},
		{"no draft", func(_ *bot.Program, s *bot.Session) { s.State = bot.State{} }},
		{"a feedback draft's phone", func(_ *bot.Program, s *bot.Session) {
			s.State.Flow, s.State.Draft.Kind, s.State.Draft.ProgramID = bot.KindFeedback, bot.KindFeedback, ""
		}},
		{"a draft in another program", func(_ *bot.Program, s *bot.Session) { s.State.Draft.ProgramID = "cho-2026" }},
		{"no phone yet", func(_ *bot.Program, s *bot.Session) { s.State.Draft.Phone = "" }},
		{"a foreign phone", func(_ *bot.Program, s *bot.Session) { s.State.Draft.Phone = "+447911123456" }},
		{"a Vietnamese landline", func(_ *bot.Program, s *bot.Session) { s.State.Draft.Phone = "+842438251234" }},
		{"the program closed", func(p *bot.Program, _ *bot.Session) { p.Deadline = znsNow.Add(-time.Minute) }},
		{"a parameter naming the name not given yet", func(_ *bot.Program, s *bot.Session) { s.State.Draft.Name = "  " }},
		{"a parameter that names nothing known", func(p *bot.Program, _ *bot.Session) { p.ZNS.Params["ward"] = "{{.Ward}}" }},
		{"a parameter that does not parse", func(p *bot.Program, _ *bot.Session) { p.ZNS.Params["ward"] = "{{.Name" }},
	}
	for _, tt := range tests {
		p, s := greenProgram(), lanSession()
		tt.change(&p, &s)
		if m, ok := broadcast.ZNSFor(p, s, "vi", znsNow); ok || m != nil {
			t.Errorf("%s: ZNS message %+v", tt.name, m)
		}
	}
}
