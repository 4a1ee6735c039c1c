package broadcast

import (
	"strings"
	"text/template"
	"time"

	"github.com/sangkien/sangkien/bot"
)

// ZaloWindow is how long after a citizen's own last action on Zalo (a message, a
// button, a follow) the OA may send them consultation messages: past 7 days Zalo
// refuses them (-230). The first 48 hours' eight replies are free, the rest of the
// week counts against the OA's quota; bulk messages go in the whole week.
const ZaloWindow = 7 * 24 * time.Hour

// zaloWindowMargin keeps bulk messages clear of the window's end: one let through
// just before it may still wait for its turn in the lane, and one refused after it
// marks the citizen unreachable.
const zaloWindowMargin = time.Hour

// deadlineLayout is how a program's deadline reads in reminders, in Hanoi's time.
const deadlineLayout = "15:04 02/01/2006"

// InZaloWindow reports whether a consultation message sent at now still reaches a
// Zalo citizen with profile prof. A profile from before LastInbound was kept is
// outside: better skipped than refused and marked unreachable.
func InZaloWindow(prof bot.Profile, now time.Time) bool {
	return !prof.LastInbound.IsZero() && now.Sub(prof.LastInbound) < ZaloWindow-zaloWindowMargin
}

// ZNSFor is the ZNS message that stands for program p's reminder to the Zalo citizen
// of session s when they are outside the interaction window (InZaloWindow, which the
// caller checks first), or false when there is none and the reminder is skipped as
// "zalo window". lang is the language of the program's name in the message; the
// deadline reads as in the reminders' texts.
//
// There is one only when the program has a template and the citizen has an
// unfinished initiative draft in p with a Vietnamese mobile number, given after they
// accepted the privacy notice (which names contacting them about their initiative as
// its purpose). The flows keep the contact phone nowhere else the gateway can read: a
// submitted initiative's phone went to the city's intake with it, and a feedback's
// phone was given for an answer to that feedback only. Nor is there one for a citizen
// who said stop or left the OA, or when a parameter renders empty (a {{.Name}} they
// have not given yet) or does not render: Zalo would refuse the message.
func ZNSFor(p bot.Program, s bot.Session, lang string, now time.Time) (*bot.ZNSMessage, bool) {
	prof, d := s.Profile, s.State.Draft
	switch {
	case p.ZNS == nil || p.ZNS.ID == "" || len(p.ZNS.Params) == 0:
		return nil, false
	case s.Conversation.Channel != bot.Zalo || prof.OptedOut || prof.Unreachable || prof.Consent == nil:
		return nil, false
	case d == nil || s.State.Flow != bot.KindInitiative || d.ProgramID != p.ID || !p.OpenAt(now):
		return nil, false
	}
	phone, ok := znsPhone(d.Phone)
	if !ok {
		return nil, false
	}
	fill := struct{ Program, Deadline, Name string }{
		Program:  p.Name.In(lang),
		Deadline: p.Deadline.In(bot.HoChiMinh()).Format(deadlineLayout),
		Name:     strings.TrimSpace(d.Name),
	}
	data := make(map[string]string, len(p.ZNS.Params))
	for name, text := range p.ZNS.Params {
		t, err := template.New(name).Option("missingkey=error").Parse(text)
		if err != nil {
			return nil, false
		}
		var b strings.Builder
		if err := t.Execute(&b, fill); err != nil {
			return nil, false
		}
		v := strings.TrimSpace(b.String())
		if v == "" {
			return nil, false
		}
		data[name] = v
	}
	return &bot.ZNSMessage{TemplateID: p.ZNS.ID, Phone: phone, Data: data}, true
}

// znsPhone turns a draft's phone (E.164, as the flows keep it) into the form ZNS
// takes: a Vietnamese mobile number, 84 and nine digits. Other countries' numbers
// have no Zalo account to reach.
func znsPhone(e164 string) (string, bool) {
	p, ok := strings.CutPrefix(e164, "+84")
	if !ok || len(p) != 9 {
		return "", false
	}
	for i := 0; i < len(p); i++ {
		if p[i] < '0' || p[i] > '9' {
			return "", false
		}
	}
	return "84" + p, true
}
