package broadcast_test

import (
	"strings"
	"testing"
	"time"

	"github.com/sangkien/sangkien/bot"
	"github.com/sangkien/sangkien/broadcast"
	"github.com/sangkien/sangkien/locales"
)

func ids(bs []bot.Broadcast) string {
	var out []string
	for _, b := range bs {
		out = append(out, b.ID)
	}
	return strings.Join(out, " ")
}

// A program's default reminders fall due at its opening, a week and a day before its
// deadline, each with an id of its own that a later look gives again (so that saving it
// twice is refused); each offset makes two, the followers' and the draft owners'. None
// before its time; a late one still goes until the next reminder falls due (the
// opening: for a week at most) or the program closes, then is told as late for a day;
// no week reminder for a program that opened within the week.
func TestRemindersDue(t *testing.T) {
	cat, err := locales.New()
	if err != nil {
		t.Fatal(err)
	}
	hn := bot.HoChiMinh()
	p := bot.Program{ID: "cds", Name: bot.Text{VI: "Chuyển đổi số", EN: "Digital wards"},
		Opens: time.Date(2026, 12, 1, 8, 0, 0, 0, hn), Deadline: time.Date(2026, 12, 20, 17, 0, 0, 0, hn)}
	r := broadcast.Reminders{Programs: bot.Programs{p}, Catalog: cat}
	for _, tt := range []struct {
		now       time.Time
		due, late string
	}{
		{time.Date(2026, 12, 1, 7, 59, 0, 0, hn), "", ""},
		{time.Date(2026, 12, 1, 8, 0, 0, 0, hn), "rem-cds-opened-20261201T0800", ""},
		{time.Date(2026, 12, 8, 7, 0, 0, 0, hn), "rem-cds-opened-20261201T0800", ""},
		{time.Date(2026, 12, 8, 9, 0, 0, 0, hn), "", "rem-cds-opened-20261201T0800"}, // a week after the opening: stale
		{time.Date(2026, 12, 13, 17, 0, 0, 0, hn), "rem-cds-7d-20261220T1700 rem-cds-7d-draft-20261220T1700", ""},
		{time.Date(2026, 12, 19, 17, 30, 0, 0, hn), "rem-cds-1d-20261220T1700 rem-cds-1d-draft-20261220T1700",
			"rem-cds-7d-20261220T1700 rem-cds-7d-draft-20261220T1700"},
		{time.Date(2026, 12, 20, 18, 0, 0, 0, hn), "", "rem-cds-1d-20261220T1700 rem-cds-1d-draft-20261220T1700"},
		{time.Date(2026, 12, 22, 9, 0, 0, 0, hn), "", ""},
	} {
		due, late := r.Due(tt.now)
		if ids(due) != tt.due || strings.Join(late, " ") != tt.late {
			t.Errorf("at %v: due %q late %q; want %q and %q", tt.now, ids(due), late, tt.due, tt.late)
		}
	}
	opened, _ := r.Due(p.Opens)
	week, _ := r.Due(p.Deadline.Add(-7 * 24 * time.Hour))
	day, _ := r.Due(p.Deadline.Add(-time.Hour))
	if opened[0].Audience != (bot.AudienceQuery{Kind: bot.AudienceSubscribed}) || !strings.Contains(opened[0].Text.VI, "17:00 ngày 20/12/2026") ||
		opened[0].Button == nil || opened[0].Button.Payload != "cmd:initiative:cds" {
		t.Errorf("the opening: %+v", opened[0])
	}
	followers, drafts := week[0], week[1]
	if followers.Audience != (bot.AudienceQuery{Kind: bot.AudienceProgram, Program: "cds", WithoutDrafts: true}) ||
		drafts.Audience != (bot.AudienceQuery{Kind: bot.AudienceDraft, Program: "cds"}) {
		t.Errorf("the week's audiences: %+v, %+v", followers.Audience, drafts.Audience)
	}
	if !strings.Contains(followers.Text.VI, "còn 7 ngày") || !strings.Contains(followers.Text.EN, "7 days left") ||
		!strings.Contains(followers.Text.VI, "Chuyển đổi số") || !strings.Contains(followers.Text.EN, "Digital wards") ||
		followers.Personal != (bot.Text{}) || followers.Button == nil || followers.Button.Label.VI != "💡 Gửi sáng kiến" {
		t.Errorf("the week's followers reminder: %+v %+v", followers, followers.Button)
	}
	if !strings.Contains(day[1].Text.VI, "còn 1 ngày") || !strings.Contains(day[1].Text.EN, "1 day left") {
		t.Errorf("the day's draft reminder: %+v", day[1].Text)
	}
	for _, b := range append(append(opened, week...), day...) {
		if err := b.Validate(); err != nil {
			t.Errorf("%s: %v", b.ID, err)
		}
		if b.At.After(b.Created) || b.State != bot.BroadcastScheduled || strings.Contains(b.Text.VI+b.Text.EN, "[") {
			t.Errorf("%s: %+v", b.ID, b)
		}
	}
	// The draft owner's reminder names their draft, and has the button that resumes it.
	conv := bot.ConversationRef{Channel: bot.Telegram, ID: "7"}
	for lang, want := range map[string]string{
		"vi": "⏰ Sáng kiến \"Wifi ở nhà văn hóa\" của bạn vẫn chưa được gửi. Chương trình \"Chuyển đổi số\" sẽ hết hạn nhận sáng kiến vào 17:00 ngày 20/12/2026 (chỉ còn 7 ngày nữa). Bạn chọn \"Tiếp tục\" để hoàn thành nhé.",
		"en": "⏰ Your initiative \"Wifi ở nhà văn hóa\" is not sent yet; the program \"Digital wards\" closes at 17:00 on 20/12/2026 (7 days left). Choose \"Continue\" to finish it.",
	} {
		o := drafts.Message(bot.AudienceMember{Conversation: conv, Lang: lang, DraftTitle: "Wifi ở nhà văn hóa"})
		if o.Reply.Text != want || len(o.Reply.Choices) != 1 || o.Reply.Choices[0].Payload != "cmd:initiative:cds" ||
			o.Reply.Choices[0].Label != map[string]string{"vi": "▶️ Tiếp tục", "en": "▶️ Continue"}[lang] {
			t.Errorf("%s: the draft reminder is %q %+v\nwant %q", lang, o.Reply.Text, o.Reply.Choices, want)
		}
	}
	if o := drafts.Message(bot.AudienceMember{Conversation: conv, Lang: "vi"}); o.Reply.Text != drafts.Text.VI || strings.Contains(o.Reply.Text, "{{") {
		t.Errorf("a draft with no title yet: %q", o.Reply.Text)
	}
	// A deadline moved after the opening does not announce the opening again.
	moved := p
	moved.Deadline = p.Deadline.Add(48 * time.Hour)
	if due, _ := (broadcast.Reminders{Programs: bot.Programs{moved}, Catalog: cat}).Due(time.Date(2026, 12, 2, 9, 0, 0, 0, hn)); ids(due) != "rem-cds-opened-20261201T0800" {
		t.Errorf("a moved deadline: %q", ids(due))
	}
	// A program that opened less than a week before its deadline has no week reminder.
	short := p
	short.Opens = p.Deadline.Add(-3 * 24 * time.Hour)
	if due, _ := (broadcast.Reminders{Programs: bot.Programs{short}, Catalog: cat}).Due(p.Deadline.Add(-time.Hour)); ids(due) != "rem-cds-opened-20261217T1700 rem-cds-1d-20261220T1700 rem-cds-1d-draft-20261220T1700" {
		t.Errorf("a short program: %q", ids(due))
	}
}

// A program's own offsets replace the defaults: each is named by its offset, tells the
// time left in words, and a changed offset or deadline is a new reminder.
func TestRemindersOfAProgram(t *testing.T) {
	cat, err := locales.New()
	if err != nil {
		t.Fatal(err)
	}
	hn := bot.HoChiMinh()
	p := bot.Program{ID: "xanh", Name: bot.Text{VI: "Thủ đô xanh"}, Opens: time.Date(2026, 12, 1, 8, 0, 0, 0, hn),
		Deadline:  time.Date(2026, 12, 3, 10, 0, 0, 0, hn),
		Reminders: []bot.Reminder{{Before: time.Minute}, {Before: 90 * time.Minute}, {Before: 36 * time.Hour}}}
	r := broadcast.Reminders{Programs: bot.Programs{p}, Catalog: cat}
	for _, tt := range []struct {
		before  time.Duration
		id      string
		vi, en  string
		hasLate bool
	}{
		{36 * time.Hour, "rem-xanh-1d12h-20261203T1000", "còn 1 ngày 12 giờ nữa", "1 day 12 hours left", false},
		{90 * time.Minute, "rem-xanh-1h30m-20261203T1000", "còn 1 giờ 30 phút nữa", "1 hour 30 minutes left", true},
		{time.Minute, "rem-xanh-1m-20261203T1000", "còn 1 phút nữa", "1 minute left", true},
	} {
		due, late := r.Due(p.Deadline.Add(-tt.before))
		if len(due) != 2 || due[0].ID != tt.id || due[1].ID != strings.Replace(tt.id, "-2026", "-draft-2026", 1) ||
			!strings.Contains(due[0].Text.VI, tt.vi) || !strings.Contains(due[0].Text.EN, tt.en) || (len(late) > 0) != tt.hasLate {
			t.Errorf("%v before: due %q (%q / %q), late %q", tt.before, ids(due), due[0].Text.VI, due[0].Text.EN, late)
		}
	}
	moved := p
	moved.Deadline = p.Deadline.Add(24 * time.Hour)
	moved.Reminders = []bot.Reminder{{Before: 2 * time.Minute}}
	if due, _ := (broadcast.Reminders{Programs: bot.Programs{moved}, Catalog: cat}).Due(moved.Deadline.Add(-time.Minute)); ids(due) != "rem-xanh-2m-20261204T1000 rem-xanh-2m-draft-20261204T1000" {
		t.Errorf("a moved deadline and offset: %q", ids(due))
	}
}

// The time left in words, in both languages, with the singular for one.
func TestTimeLeft(t *testing.T) {
	cat, err := locales.New()
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		d      time.Duration
		vi, en string
	}{
		{7 * 24 * time.Hour, "7 ngày", "7 days"},
		{24 * time.Hour, "1 ngày", "1 day"},
		{25 * time.Hour, "1 ngày 1 giờ", "1 day 1 hour"},
		{time.Hour, "1 giờ", "1 hour"},
		{2*time.Hour + 5*time.Minute, "2 giờ 5 phút", "2 hours 5 minutes"},
		{time.Minute, "1 phút", "1 minute"},
		{30 * time.Second, "1 phút", "1 minute"},
	} {
		if vi, en := broadcast.TimeLeft(tt.d, cat.For("vi")), broadcast.TimeLeft(tt.d, cat.For("en")); vi != tt.vi || en != tt.en {
			t.Errorf("%v: %q / %q; want %q / %q", tt.d, vi, en, tt.vi, tt.en)
		}
	}
}
