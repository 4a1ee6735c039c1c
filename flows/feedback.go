package flows

import (
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/looplab/fsm"

	"github.com/sangkien/sangkien/bot"
)

// Feedback topics, stored in Draft.Topic (TopicRef names the program or the reference).
const (
	topicProgram    = "program"
	topicSubmission = "submission"
	topicService    = "service"
	topicOther      = "other"
)

// maxTopicSubmissions bounds how many of the citizen's submissions the topic offers.
const maxTopicSubmissions = 5

func feedbackFlow() *flow {
	f := &flow{
		first: "topic",
		events: fsm.Events{
			{Name: "next", Src: []string{"topic"}, Dst: "rating"},
			{Name: "next", Src: []string{"rating"}, Dst: "comment"},
			{Name: "next", Src: []string{"comment"}, Dst: "contact"},
			// Contact is optional: the notice is shown only to those who give one.
			{Name: "next", Src: []string{"contact"}, Dst: "consent"},
			{Name: "skip", Src: []string{"contact"}, Dst: "submitted"},
			{Name: "next", Src: []string{"consent"}, Dst: "name"},
			{Name: "decline", Src: []string{"consent"}, Dst: "submitted"},
			{Name: "next", Src: []string{"name"}, Dst: "phone"},
			{Name: "next", Src: []string{"phone"}, Dst: "submitted"},
			// Submit's safety net (missingAnswer): half a contact asks for the rest.
			{Name: "missing_name", Src: []string{"submitted"}, Dst: "name"},
			{Name: "missing_phone", Src: []string{"submitted"}, Dst: "phone"},
		},
		steps: map[string]*step{
			"topic":   {ask: askTopic, answer: answerTopic},
			"rating":  {ask: askRating, answer: answerRating},
			"comment": {ask: askComment, answer: answerComment},
			"contact": {ask: askContact, answer: answerContact},
			"consent": feedbackConsentStep(),
			"name":    nameStep(),
			"phone":   phoneStep(),
		},
		finals: map[string]func(*turn) error{
			"submitted": (*turn).submitFeedback,
		},
	}
	return f.addBack()
}

func (t *turn) startFeedback() error {
	return t.start(bot.KindFeedback, &bot.Draft{})
}

// topicPrograms are the programs feedback can be about: those that have opened.
func (t *turn) topicPrograms() bot.Programs {
	var ps bot.Programs
	for _, p := range t.programs {
		if !t.now.Before(p.Opens) {
			ps = append(ps, p)
		}
	}
	return ps
}

// topicSubmissions are the citizen's most recent submissions.
func (t *turn) topicSubmissions() []bot.SubmissionSummary {
	subs := slices.Clone(t.s.Profile.Submissions)
	slices.Reverse(subs)
	if len(subs) > maxTopicSubmissions {
		subs = subs[:maxTopicSubmissions]
	}
	return subs
}

func askTopic(t *turn) bot.Reply {
	var choices []bot.Choice
	for _, p := range t.topicPrograms() {
		choices = append(choices, bot.Choice{
			Label:   t.tr("feedback.topic.program", map[string]any{"Name": p.Name.In(t.l.Lang())}),
			Payload: "topic:program:" + p.ID})
	}
	for _, s := range t.topicSubmissions() {
		choices = append(choices, bot.Choice{
			Label:   t.tr("feedback.topic.submission", map[string]any{"Reference": s.Reference}),
			Payload: "topic:submission:" + s.Reference})
	}
	choices = append(choices,
		t.button("feedback.topic.service", "topic:service"),
		t.button("feedback.topic.other", "topic:other"))
	return bot.Reply{Text: t.tr("feedback.topic.ask"), Choices: choices}
}

// referencePattern is a reference as a citizen may type it ("sk-2026-000123").
var referencePattern = regexp.MustCompile(`(?i)^(SK|GY)-\d{4}-\d{6}$`)

func answerTopic(t *turn, in input) outcome {
	d := t.draft()
	p := in.payload
	if p == "" && referencePattern.MatchString(in.text) {
		p = "topic:submission:" + strings.ToUpper(in.text)
	}
	rest, ok := strings.CutPrefix(p, "topic:")
	if !ok {
		return outcome{miss: t.tr("miss.choice")}
	}
	kind, ref, _ := strings.Cut(rest, ":")
	switch kind {
	case topicProgram:
		if _, found := t.topicPrograms().Get(ref); !found {
			return outcome{miss: t.tr("miss.choice")}
		}
	case topicSubmission:
		if !slices.ContainsFunc(t.s.Profile.Submissions, func(s bot.SubmissionSummary) bool { return s.Reference == ref }) {
			return outcome{miss: t.tr("feedback.topic.unknown_reference")}
		}
	case topicService, topicOther:
		ref = ""
	default:
		return outcome{miss: t.tr("miss.choice")}
	}
	d.Topic, d.TopicRef = kind, ref
	return outcome{event: "next"}
}

func askRating(t *turn) bot.Reply {
	choices := make([]bot.Choice, 0, 5)
	for n := 1; n <= 5; n++ {
		choices = append(choices, bot.Choice{Label: strconv.Itoa(n) + " " + strings.Repeat("⭐", n), Payload: "rating:" + strconv.Itoa(n)})
	}
	return bot.Reply{Text: t.tr("feedback.rating.ask"), Choices: choices}
}

// ratingPattern reads a typed rating: "4", "4/5", "4 sao", "4 stars".
var ratingPattern = regexp.MustCompile(`^([1-5])(\s*/\s*5)?(\s*(sao|stars?|⭐+))?$`)

func answerRating(t *turn, in input) outcome {
	s, ok := strings.CutPrefix(in.payload, "rating:")
	if !ok {
		m := ratingPattern.FindStringSubmatch(strings.ToLower(in.text))
		if m == nil {
			return outcome{miss: t.tr("feedback.rating.invalid")}
		}
		s = m[1]
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 5 {
		return outcome{miss: t.tr("feedback.rating.invalid")}
	}
	t.draft().Rating = n
	return outcome{event: "next"}
}

func askComment(t *turn) bot.Reply {
	return bot.Reply{Text: t.tr("feedback.comment.ask", map[string]any{"Min": commentMin, "Max": commentMax})}
}

func answerComment(t *turn, in input) outcome {
	if miss := t.textAnswer(in, in.text, commentMin, commentMax, "feedback.comment.too_short", "feedback.comment.too_long"); miss != "" {
		return outcome{miss: miss}
	}
	t.draft().Comment = in.text
	return outcome{event: "next"}
}

func askContact(t *turn) bot.Reply {
	return bot.Reply{
		Text:    t.tr("feedback.contact.ask"),
		Choices: []bot.Choice{t.button("feedback.contact.yes", "yes"), t.button("feedback.contact.no", "skip")},
		Request: bot.RequestContact,
	}
}

func answerContact(t *turn, in input) outcome {
	d := t.draft()
	switch {
	case in.kind == bot.EventContact:
		return t.takeContact(in, false)
	case in.payload == "skip":
		d.Name, d.Phone = "", ""
		return outcome{event: "skip"}
	}
	// A typed number is a yes with the phone given: the question asks for a contact,
	// and "someone else's contact" tells the citizen to type their own.
	if phone, ok := normalizePhone(in.text); ok && in.kind == bot.EventText {
		d.Phone = phone
		return outcome{event: "next"}
	}
	yes, no := answerOf(in, "yes", "skip")
	switch {
	case yes:
		return outcome{event: "next"}
	case no:
		d.Name, d.Phone = "", ""
		return outcome{event: "skip"}
	}
	return outcome{miss: t.tr("miss.choice")}
}

// feedbackConsentStep shows the notice to a citizen who leaves a contact; declining
// sends the feedback without it.
func feedbackConsentStep() *step {
	s := consentStep("feedback.consent.ask")
	agree := s.answer
	s.ask = func(t *turn) bot.Reply {
		return bot.Reply{
			Text:    t.tr("feedback.consent.ask", map[string]any{"Version": t.r.notice}),
			Choices: []bot.Choice{t.button("consent.agree", "agree"), t.button("feedback.consent.anonymous", "decline")},
		}
	}
	s.answer = func(t *turn, in input) outcome {
		out := agree(t, in)
		if out.event == "decline" {
			d := t.draft()
			d.Name, d.Phone = "", ""
		}
		return out
	}
	return s
}
