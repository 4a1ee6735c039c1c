package flows

import (
	"fmt"
	"strings"

	"github.com/looplab/fsm"

	"github.com/sangkien/sangkien/bot"
)

// The steps the review can reopen. Step names are stored in sessions: keep them.
var initiativeEditable = []string{"program", "field", "title", "description", "benefit",
	"location", "attachments", "name", "phone", "email"}

func initiativeFlow() *flow {
	events := fsm.Events{
		{Name: "next", Src: []string{"consent"}, Dst: "program"},
		{Name: "decline", Src: []string{"consent"}, Dst: "declined"},
		{Name: "next", Src: []string{"program"}, Dst: "field"},
		{Name: "next", Src: []string{"field"}, Dst: "title"},
		{Name: "next", Src: []string{"title"}, Dst: "description"},
		{Name: "next", Src: []string{"description"}, Dst: "benefit"},
		{Name: "next", Src: []string{"benefit"}, Dst: "location"},
		{Name: "next", Src: []string{"location"}, Dst: "attachments"},
		{Name: "skip", Src: []string{"location"}, Dst: "attachments"},
		{Name: "next", Src: []string{"attachments"}, Dst: "name"},
		{Name: "skip", Src: []string{"attachments"}, Dst: "name"},
		{Name: "next", Src: []string{"name"}, Dst: "phone"},
		{Name: "next", Src: []string{"phone"}, Dst: "email"},
		{Name: "next", Src: []string{"email"}, Dst: "review"},
		{Name: "skip", Src: []string{"email"}, Dst: "review"},
		{Name: "review", Src: initiativeEditable, Dst: "review"},
		{Name: "submit", Src: []string{"review"}, Dst: "submitted"},
		// A program closed before the submit (closed.go).
		{Name: "closed", Src: []string{"submitted"}, Dst: "closed"},
		{Name: "review", Src: []string{"closed"}, Dst: "review"},
		{Name: "edit_field", Src: []string{"closed"}, Dst: "field"},
		{Name: "as_feedback", Src: []string{"closed"}, Dst: "sent_as_feedback"},
		{Name: "keep", Src: []string{"closed"}, Dst: "kept"},
	}
	// Submit's safety net (missingAnswer): a draft without a required answer asks it.
	for _, s := range initiativeRequired {
		events = append(events, fsm.EventDesc{Name: "missing_" + s, Src: []string{"submitted"}, Dst: s})
	}
	for _, s := range initiativeEditable {
		events = append(events, fsm.EventDesc{Name: "edit_" + s, Src: []string{"review"}, Dst: s})
	}
	f := &flow{
		first:  "consent",
		events: events,
		steps: map[string]*step{
			"consent":     consentStep("initiative.consent.ask"),
			"program":     {ask: askProgram, answer: answerProgram, auto: autoProgram},
			"field":       {ask: askField, answer: answerField, auto: autoField},
			"title":       {ask: askTitle, answer: answerTitle},
			"description": {ask: askDescription, answer: answerDescription},
			"benefit":     {ask: askBenefit, answer: answerBenefit},
			"location":    {ask: askLocation, answer: answerLocation},
			"attachments": {ask: askAttachments, answer: answerAttachments},
			"name":        nameStep(),
			"phone":       phoneStep(),
			"email":       {ask: askEmail, answer: answerEmail},
			"review":      {ask: askReview, answer: answerReview},
			"closed":      closedStep(),
		},
		finals: map[string]func(*turn) error{
			"submitted": (*turn).submitInitiative,
			"declined":  (*turn).declined,
			// The closed step's ways out (closed.go).
			"sent_as_feedback": (*turn).sendAsFeedback,
			"kept":             (*turn).keepDraft,
		},
	}
	return f.addBack()
}

// startInitiative begins a proposal; programID comes from a deep link and picks the
// program when it is open.
func (t *turn) startInitiative(programID string) error {
	open := t.programs.OpenAt(t.now)
	if programID != "" {
		if _, ok := open.Get(programID); !ok {
			t.say(t.tr("program.link_closed"))
			programID = ""
		}
	}
	if len(open) == 0 {
		t.noProgram()
		return nil
	}
	return t.start(bot.KindInitiative, &bot.Draft{Proposal: bot.Proposal{ProgramID: programID}})
}

// noProgram says no program takes initiatives now and offers feedback instead.
func (t *turn) noProgram() {
	t.clear()
	t.say(t.tr("program.none"), t.button("menu.feedback", "cmd:"+cmdFeedback), t.button("choice.menu", "cmd:"+cmdMenu))
}

func (t *turn) draft() *bot.Draft {
	if t.s.State.Draft == nil {
		t.s.State.Draft = &bot.Draft{ID: t.r.newID(), Proposal: bot.Proposal{Kind: t.s.State.Flow}, Started: t.now}
	}
	return t.s.State.Draft
}

// consentStep shows a privacy notice (the message id) with Agree and Decline.
func consentStep(notice string) *step {
	return &step{
		ask: func(t *turn) bot.Reply {
			return bot.Reply{
				Text:    t.tr(notice, map[string]any{"Days": int(draftTTL.Hours() / 24), "Version": t.r.notice}),
				Choices: []bot.Choice{t.button("consent.agree", "agree"), t.button("consent.decline", "decline")},
			}
		},
		answer: func(t *turn, in input) outcome {
			yes, no := answerOf(in, "agree", "decline")
			switch {
			case yes:
				t.s.Profile.Consent = &bot.Consent{At: t.now, NoticeVersion: t.r.notice}
				return outcome{event: "next"}
			case no:
				// Declining withdraws an earlier consent too.
				t.s.Profile.Consent = nil
				return outcome{event: "decline"}
			}
			return outcome{miss: t.tr("miss.consent")}
		},
		auto: func(t *turn) bool {
			c := t.s.Profile.Consent
			return c != nil && c.NoticeVersion == t.r.notice
		},
	}
}

// declined ends a proposal whose notice was refused: the rest of the bot still works.
func (t *turn) declined() error {
	t.clear()
	t.menu("consent.declined")
	return nil
}

func askProgram(t *turn) bot.Reply {
	open := t.programs.OpenAt(t.now)
	if len(open) == 0 {
		return bot.Reply{Text: t.tr("program.none"), Choices: []bot.Choice{
			t.button("menu.feedback", "cmd:"+cmdFeedback), t.button("choice.menu", "cmd:"+cmdMenu)}}
	}
	var b strings.Builder
	b.WriteString(t.tr("initiative.program.ask"))
	choices := make([]bot.Choice, 0, len(open))
	for i, p := range open {
		b.WriteString("\n\n")
		b.WriteString(t.tr("initiative.program.item", map[string]any{
			"N": i + 1, "Name": p.Name.In(t.l.Lang()), "Description": strings.TrimSpace(p.Description.In(t.l.Lang())),
			"Deadline": date(p.Deadline),
		}))
		choices = append(choices, bot.Choice{Label: p.Name.In(t.l.Lang()), Payload: "program:" + p.ID})
	}
	// Not ready to write yet: a reminder before the deadline instead (remind.go).
	for _, p := range open {
		choices = append(choices, t.remindChoice(p))
	}
	return bot.Reply{Text: b.String(), Choices: choices}
}

func answerProgram(t *turn, in input) outcome {
	id, ok := strings.CutPrefix(in.payload, "program:")
	p, found := t.programs.OpenAt(t.now).Get(id)
	if !ok || !found {
		return outcome{miss: t.tr("miss.choice")}
	}
	d := t.draft()
	d.ProgramID = p.ID
	if _, ok := p.Field(d.Field); !ok {
		d.Field = ""
		return outcome{event: "next", keepEditing: true}
	}
	return outcome{event: "next"}
}

// autoProgram passes the question when the program is known (a deep link) or when
// only one program is open.
func autoProgram(t *turn) bool {
	open := t.programs.OpenAt(t.now)
	d := t.draft()
	if _, ok := open.Get(d.ProgramID); ok {
		return true
	}
	if len(open) == 1 {
		d.ProgramID = open[0].ID
		return true
	}
	return false
}

func (t *turn) program() (bot.Program, bool) {
	return t.programs.Get(t.draft().ProgramID)
}

func askField(t *turn) bot.Reply {
	p, _ := t.program()
	choices := make([]bot.Choice, 0, len(p.Fields))
	for _, f := range p.Fields {
		choices = append(choices, bot.Choice{Label: f.Name.In(t.l.Lang()), Payload: "field:" + f.ID})
	}
	return bot.Reply{Text: t.tr("initiative.field.ask", map[string]any{"Program": p.Name.In(t.l.Lang())}), Choices: choices}
}

func answerField(t *turn, in input) outcome {
	id, ok := strings.CutPrefix(in.payload, "field:")
	p, _ := t.program()
	if _, found := p.Field(id); !ok || !found {
		return outcome{miss: t.tr("miss.choice")}
	}
	t.draft().Field = id
	return outcome{event: "next"}
}

// autoField passes the question when the program offers a single field.
func autoField(t *turn) bool {
	p, ok := t.program()
	if ok && len(p.Fields) == 1 {
		t.draft().Field = p.Fields[0].ID
		return true
	}
	return false
}

// textAnswer validates a typed answer's length; it returns the miss reason or "".
func (t *turn) textAnswer(in input, text string, min, max int, short, long string) string {
	if in.kind != bot.EventText || text == "" {
		return t.tr("miss.text")
	}
	n := runes(text)
	data := map[string]any{"Min": min, "Max": max, "Count": n}
	switch {
	case n < min:
		return t.tr(short, data)
	case n > max:
		return t.tr(long, data)
	}
	return ""
}

func askTitle(t *turn) bot.Reply {
	return bot.Reply{Text: t.tr("initiative.title.ask", map[string]any{"Min": titleMin, "Max": titleMax})}
}

func answerTitle(t *turn, in input) outcome {
	title := singleLine(in.text)
	if miss := t.textAnswer(in, title, titleMin, titleMax, "initiative.title.too_short", "initiative.title.too_long"); miss != "" {
		return outcome{miss: miss}
	}
	t.draft().Title = title
	return outcome{event: "next"}
}

// The description may come over several messages: each is added, and Done ends it.
func askDescription(t *turn) bot.Reply {
	d := t.draft()
	if d.Description == "" {
		return bot.Reply{Text: t.tr("initiative.description.ask", map[string]any{"Min": descriptionMin, "Max": descriptionMax})}
	}
	n := runes(d.Description)
	id := "initiative.description.progress"
	if n < descriptionMin {
		id = "initiative.description.progress_short"
	}
	return bot.Reply{
		Text:    t.tr(id, map[string]any{"Count": n, "Min": descriptionMin, "Max": descriptionMax}),
		Choices: []bot.Choice{t.button("choice.done", "done"), t.button("choice.rewrite", "clear")},
	}
}

func answerDescription(t *turn, in input) outcome {
	d := t.draft()
	switch in.payload {
	case "done":
		if n := runes(d.Description); n < descriptionMin {
			return outcome{miss: t.tr("initiative.description.too_short", map[string]any{"Count": n, "Min": descriptionMin})}
		}
		return outcome{event: "next"}
	case "clear":
		d.Description = ""
		return outcome{}
	}
	if in.kind != bot.EventText || in.text == "" {
		return outcome{miss: t.tr("miss.text")}
	}
	text := in.text
	if d.Description != "" {
		text = d.Description + "\n" + in.text
	}
	if n := runes(text); n > descriptionMax {
		return outcome{miss: t.tr("initiative.description.too_long", map[string]any{
			"Count": n, "Max": descriptionMax, "Have": runes(d.Description)})}
	}
	d.Description = text
	return outcome{}
}

func askBenefit(t *turn) bot.Reply {
	return bot.Reply{Text: t.tr("initiative.benefit.ask", map[string]any{"Min": benefitMin, "Max": benefitMax})}
}

func answerBenefit(t *turn, in input) outcome {
	if miss := t.textAnswer(in, in.text, benefitMin, benefitMax, "initiative.benefit.too_short", "initiative.benefit.too_long"); miss != "" {
		return outcome{miss: miss}
	}
	t.draft().Benefit = in.text
	return outcome{event: "next"}
}

func askLocation(t *turn) bot.Reply {
	return bot.Reply{
		Text:    t.tr("initiative.location.ask"),
		Choices: []bot.Choice{t.button("choice.skip", "skip")},
		Request: bot.RequestLocation,
	}
}

func answerLocation(t *turn, in input) outcome {
	d := t.draft()
	switch {
	case in.payload == "skip":
		d.Location, d.LocationText = nil, ""
		return outcome{event: "skip"}
	case in.kind == bot.EventLocation && in.location != nil:
		loc := *in.location
		// Written so that NaN, which fails every comparison, is refused too (±Inf is out
		// of range anyway).
		if !(loc.Lat >= -90 && loc.Lat <= 90 && loc.Lon >= -180 && loc.Lon <= 180) {
			return outcome{miss: t.tr("initiative.location.invalid", map[string]any{"Min": locationMin, "Max": locationMax})}
		}
		d.Location, d.LocationText = &loc, ""
		if !t.r.area.Contains(loc) {
			return outcome{pending: pendingFarPoint}
		}
		return outcome{event: "next"}
	}
	text := singleLine(in.text)
	if in.kind != bot.EventText || runes(text) < locationMin || runes(text) > locationMax {
		return outcome{miss: t.tr("initiative.location.invalid", map[string]any{"Min": locationMin, "Max": locationMax})}
	}
	d.Location, d.LocationText = nil, text
	return outcome{event: "next"}
}

// farPointText asks whether the shared point, outside the city, is right.
func (t *turn) farPointText() string {
	data := map[string]any{"City": t.r.area.Name.In(t.s.Profile.Lang)}
	if d := t.s.State.Draft; d != nil && d.Location != nil {
		data["Lat"], data["Lon"] = fmt.Sprintf("%.5f", d.Location.Lat), fmt.Sprintf("%.5f", d.Location.Lon)
	}
	return t.tr("initiative.location.far.ask", data)
}

func askAttachments(t *turn) bot.Reply {
	d := t.draft()
	data := map[string]any{"Count": len(d.Attachments), "Max": maxAttachments, "MB": maxAttachmentMB}
	if len(d.Attachments) == 0 {
		return bot.Reply{Text: t.tr("initiative.attachments.ask", data), Choices: []bot.Choice{t.button("choice.skip", "skip")}}
	}
	return bot.Reply{Text: t.tr("initiative.attachments.progress", data),
		Choices: []bot.Choice{t.button("choice.done", "done"), t.button("choice.remove_files", "clear")}}
}

func answerAttachments(t *turn, in input) outcome {
	d := t.draft()
	switch in.payload {
	case "done":
		if len(d.Attachments) == 0 {
			return outcome{event: "skip"}
		}
		return outcome{event: "next"}
	case "skip":
		return outcome{event: "skip"}
	case "clear":
		d.Attachments = nil
		return outcome{}
	}
	if in.kind != bot.EventAttachments || len(in.attachments) == 0 {
		return outcome{miss: t.tr("initiative.attachments.expected", map[string]any{"Max": maxAttachments, "MB": maxAttachmentMB})}
	}
	var problems []string
	taken, before := 0, len(d.Attachments)
	for i, a := range in.attachments {
		name := a.Name
		if name == "" {
			name = t.tr("review.photo", map[string]any{"N": before + i + 1})
		}
		data := map[string]any{"Name": name, "Max": maxAttachments, "MB": maxAttachmentMB}
		if p := attachmentProblem(a); p != "" {
			problems = append(problems, t.tr(p, data))
			continue
		}
		if len(d.Attachments) >= maxAttachments {
			problems = append(problems, t.tr("initiative.attachments.too_many", data))
			continue
		}
		if a.Caption == "" && i == 0 {
			// An album's caption comes with the event: it describes the first file.
			a.Caption = in.text
		}
		d.Attachments = append(d.Attachments, a)
		taken++
	}
	if taken == 0 {
		return outcome{miss: strings.Join(problems, "\n")}
	}
	return outcome{note: strings.Join(problems, "\n")}
}

// nameStep asks for the citizen's full name; a shared contact of their own gives it.
// A contact whose name cannot serve ("🌸", one letter) still gives the phone, and the
// name is asked again.
func nameStep() *step {
	return &step{
		ask: func(t *turn) bot.Reply {
			return bot.Reply{Text: t.tr("contact.name.ask")}
		},
		answer: func(t *turn, in input) outcome {
			if in.kind == bot.EventContact {
				out := t.takeContact(in, true)
				if out.event != "" && !t.filled["name"] {
					return outcome{note: t.tr("contact.name.unusable")}
				}
				return out
			}
			name := singleLine(in.text)
			if in.kind != bot.EventText || !validName(name) {
				return outcome{miss: t.tr("contact.name.invalid", map[string]any{"Min": nameMin, "Max": nameMax})}
			}
			t.draft().Name = name
			return outcome{event: "next"}
		},
		auto: func(t *turn) bool { return t.filled["name"] },
	}
}

// phoneStep asks for a Vietnamese mobile number, typed or shared. Reached moving
// forward with a phone already in the draft (a contact shared at an earlier step), it
// is not asked: the review shows the number and can change it.
func phoneStep() *step {
	return &step{
		ask: func(t *turn) bot.Reply {
			return bot.Reply{Text: t.tr("contact.phone.ask"), Request: bot.RequestContact}
		},
		answer: func(t *turn, in input) outcome {
			if in.kind == bot.EventContact {
				return t.takeContact(in, false)
			}
			phone, ok := normalizePhone(in.text)
			if in.kind != bot.EventText || !ok {
				return outcome{miss: t.tr("contact.phone.invalid")}
			}
			t.draft().Phone = phone
			return outcome{event: "next"}
		},
		auto: func(t *turn) bool { return t.filled["phone"] || t.draft().Phone != "" },
	}
}

// takeContact fills the phone (and the name when still empty or one word, or always at
// the name step, atName) from the citizen's own shared contact; the steps it fills are then
// passed.
func (t *turn) takeContact(in input, atName bool) outcome {
	c := in.contact
	if c == nil {
		return outcome{miss: t.tr("contact.phone.invalid")}
	}
	if !c.Own {
		return outcome{miss: t.tr("contact.phone.not_own")}
	}
	phone, ok := normalizePhone(c.Phone)
	if !ok {
		return outcome{miss: t.tr("contact.phone.invalid")}
	}
	d := t.draft()
	d.Phone = phone
	t.filled["phone"] = true
	// The card's full name replaces a one-word name typed before ("Minh" → "Trần Văn Minh").
	name := singleLine(clean(c.Name))
	fuller := len(strings.Fields(d.Name)) == 1 && len(strings.Fields(name)) > 1
	if (atName || d.Name == "" || fuller) && validName(name) {
		d.Name = name
		t.filled["name"] = true
	}
	return outcome{event: "next"}
}

func askEmail(t *turn) bot.Reply {
	return bot.Reply{Text: t.tr("contact.email.ask"), Choices: []bot.Choice{t.button("choice.skip", "skip")}}
}

func answerEmail(t *turn, in input) outcome {
	if in.payload == "skip" {
		t.draft().Email = ""
		return outcome{event: "skip"}
	}
	email, ok := normalizeEmail(in.text)
	if in.kind != bot.EventText || !ok {
		return outcome{miss: t.tr("contact.email.invalid")}
	}
	t.draft().Email = email
	return outcome{event: "next"}
}

// reviewClip shortens long answers in the review: Zalo refuses texts over 2,000
// characters and Telegram over 4,096. The draft keeps them whole.
const reviewClip = 500

// askReview lists every answer, with a button to change each one.
func askReview(t *turn) bot.Reply {
	d := t.draft()
	lang := t.l.Lang()
	none := t.tr("review.none")
	or := func(s string) string {
		if s == "" {
			return none
		}
		return s
	}
	p, _ := t.program()
	field := d.Field
	if f, ok := p.Field(d.Field); ok {
		field = f.Name.In(lang)
	}
	location := d.LocationText
	if d.Location != nil {
		location = t.tr("review.location_shared", map[string]any{
			"Lat": fmt.Sprintf("%.5f", d.Location.Lat), "Lon": fmt.Sprintf("%.5f", d.Location.Lon)})
		if d.Location.Label != "" {
			location += " — " + d.Location.Label
		}
	}
	files := none
	if len(d.Attachments) > 0 {
		names := make([]string, 0, len(d.Attachments))
		for i, a := range d.Attachments {
			n := a.Name
			if n == "" {
				n = t.tr("review.photo", map[string]any{"N": i + 1})
			}
			names = append(names, n)
		}
		files = strings.Join(names, ", ")
	}
	text := t.tr("initiative.review.ask", map[string]any{
		"Program":     or(p.Name.In(lang)),
		"Field":       or(field),
		"Title":       or(d.Title),
		"Description": or(clip(d.Description, reviewClip)),
		"Benefit":     or(clip(d.Benefit, reviewClip)),
		"Location":    or(location),
		"Files":       files,
		"Name":        or(d.Name),
		"Phone":       or(d.Phone),
		"Email":       or(d.Email),
	})
	var choices []bot.Choice
	if len(t.programs.OpenAt(t.now)) > 1 {
		choices = append(choices, t.button("edit.program", "edit:program"))
	}
	if len(p.Fields) > 1 {
		choices = append(choices, t.button("edit.field", "edit:field"))
	}
	choices = append(choices,
		t.button("edit.title", "edit:title"),
		t.button("edit.description", "edit:description"),
		t.button("edit.benefit", "edit:benefit"),
		t.button("edit.location", "edit:location"),
		t.button("edit.attachments", "edit:attachments"),
		t.button("edit.name", "edit:name"),
		t.button("edit.phone", "edit:phone"),
		t.button("edit.email", "edit:email"),
		t.button("review.submit", "submit"),
		t.button("review.discard", "discard"),
	)
	return bot.Reply{Text: text, Choices: choices}
}

func answerReview(t *turn, in input) outcome {
	switch {
	case in.payload == "submit":
		return outcome{event: "submit"}
	case in.payload == "discard":
		return outcome{pending: pendingDiscard}
	case strings.HasPrefix(in.payload, "edit:"):
		return outcome{event: "edit_" + strings.TrimPrefix(in.payload, "edit:")}
	}
	return outcome{miss: t.tr("miss.choice")}
}
