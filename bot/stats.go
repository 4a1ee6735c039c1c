package bot

import (
	"slices"
	"time"
)

// This file holds what the reports count. The engine tallies each event as it runs
// (Tally, in Change.Tally) and the store adds the tally to per-day counters in the
// same commit, so an event is counted once (the commit is once per event id) and a
// report reads a few counters per day instead of every conversation.

// FunnelSteps are the initiative flow's steps in the order a citizen meets them, and
// "submitted" for the sent draft. The flow is a line (flows/initiative.go): a draft at
// a step has passed every step before it, the ones that answered themselves (a single
// open program, a program from a deep link) included. The names are the ones sessions
// store (State.Step): keep them in step with the flow.
var FunnelSteps = []string{"consent", "program", "field", "title", "description", "benefit",
	"location", "attachments", "name", "phone", "email", "review", FunnelSubmitted}

// FunnelSubmitted is the funnel's last step: the initiative was sent.
const FunnelSubmitted = "submitted"

// NoProgram stands for a program not known (yet) in tallies and reports.
const NoProgram = "-"

// Tally is what one event did, as the reports count it. Nothing in it names the
// citizen: channels, programs, fields, step names and times only.
type Tally struct {
	// Day is the event's day in the city ("2026-12-01"), the counters' day.
	Day     string
	Channel Channel
	// NewConversation: the store knew nothing of the conversation before.
	NewConversation bool
	// Active: the citizen's first message of the day in this conversation.
	Active bool
	// Message: the event is a message (or a button, a file, …) from the citizen.
	Message bool
	// Steps are the initiative steps the draft reached for the first time, in order,
	// for StepProgram (NoProgram while none is chosen).
	Steps       []string
	StepProgram string
	// Submitted is the submission the event confirmed, nil when none.
	Submitted *SubmittedTally
	// Answer is the first staff answer of a waiting spell, nil when none.
	Answer *AnswerPair
}

// SubmittedTally is a submission as the reports count it.
type SubmittedTally struct {
	Kind    string
	Program string // NoProgram when none
	Field   string // "" when none
	// Took is the time from the draft's start to the submission; 0 when not known.
	Took time.Duration
}

// AnswerPair is one wait for a person: since when the citizen waited and when staff
// first answered. Whether that was within the target is judged when a report is read,
// with the console's working-day calendar.
type AnswerPair struct {
	WaitingSince time.Time `json:"waiting_since"`
	Answered     time.Time `json:"answered"`
}

// Empty reports whether the tally counts nothing.
func (t Tally) Empty() bool {
	return !t.NewConversation && !t.Active && !t.Message && len(t.Steps) == 0 && t.Submitted == nil && t.Answer == nil
}

// before is what the tally needs of the session as the event found it: the
// conversation respond changes the session in place.
type before struct {
	new     bool
	updated time.Time // the citizen's last message (State.Updated)
	draft   *Draft
}

func beforeOf(s *Session) before {
	return before{new: s.New, updated: s.State.Updated, draft: s.State.Draft}
}

// tally counts what ev did: b is the session before it, s the session after, prior the
// desk before. It marks in s's draft the furthest funnel step counted, so that going
// back or editing from the review does not count a step twice.
func tally(ev Event, b before, s *Session, prior Desk, sub *Submission, now time.Time) Tally {
	t := Tally{Day: Day(now), Channel: ev.Conversation.Channel, NewConversation: b.new}
	if ev.Kind.FromCitizen() {
		t.Message = true
		t.Active = b.updated.IsZero() || Day(b.updated) != t.Day
	}
	if d := s.State.Draft; d != nil && s.State.Flow == KindInitiative {
		t.Steps, t.StepProgram = d.reach(s.State.Step)
	}
	if sub != nil {
		t.Submitted = &SubmittedTally{Kind: sub.Kind, Program: orNoProgram(sub.ProgramID), Field: sub.Field}
		if d := b.draft; d != nil && d.ID == sub.ID && !d.Started.IsZero() {
			at := sub.SubmittedAt
			if at.IsZero() {
				at = now
			}
			t.Submitted.Took = max(at.Sub(d.Started), 0)
		}
		if sub.Kind == KindInitiative && b.draft != nil && b.draft.ID == sub.ID {
			t.Steps, t.StepProgram = b.draft.reach(FunnelSubmitted)
			t.StepProgram = t.Submitted.Program
		}
	}
	if prior.State() == DeskWaiting && !prior.WaitingSince.IsZero() &&
		(ev.Kind == EventStaffMessage || ev.Kind == EventStaffReply) {
		t.Answer = &AnswerPair{WaitingSince: prior.WaitingSince, Answered: now}
	}
	return t
}

// reach marks step as reached and returns the funnel steps newly passed to get there,
// and the draft's program.
func (d *Draft) reach(step string) ([]string, string) {
	to := slices.Index(FunnelSteps, step)
	from := slices.Index(FunnelSteps, d.Reached)
	if to <= from {
		return nil, ""
	}
	d.Reached = step
	return slices.Clone(FunnelSteps[from+1 : to+1]), orNoProgram(d.ProgramID)
}

func orNoProgram(id string) string {
	if id == "" {
		return NoProgram
	}
	return id
}

// Day is t's day in the city, as the counters name it.
func Day(t time.Time) string { return t.In(HoChiMinh()).Format(time.DateOnly) }

// Report is what the counters say of a period of days.
type Report struct {
	From, To string // days, inclusive
	// Days are every day of the period, oldest first.
	Days   []ReportDay
	Totals ReportCounts
	// ByChannel are the counts per channel.
	ByChannel map[Channel]ReportCounts
	// Submissions counts the submissions by kind, ByProgram by program and kind
	// (NoProgram for none), ByField the initiatives by program and field.
	Submissions map[string]int64
	ByProgram   map[string]map[string]int64
	ByField     map[string]map[string]int64
	// Funnel is how many drafts reached each of FunnelSteps, FunnelByProgram the same
	// by program (NoProgram before one is chosen).
	Funnel          []FunnelStep
	FunnelByProgram map[string]map[string]int64
	// Took are the times from a draft's start to its submission, by kind, shortest
	// first (a sample: each shard keeps at most a bounded number a day).
	Took map[string][]time.Duration
	// Answers are the first staff answers of waiting spells, in no order.
	Answers []AnswerPair
}

// ReportCounts are the conversation counters of a day or a channel.
type ReportCounts struct {
	New         int64 `json:"new"`
	Active      int64 `json:"active"`
	Messages    int64 `json:"messages"`
	Submissions int64 `json:"submissions"`
}

// Add adds o's counts to c.
func (c *ReportCounts) Add(o ReportCounts) {
	c.New += o.New
	c.Active += o.Active
	c.Messages += o.Messages
	c.Submissions += o.Submissions
}

// ReportDay is one day's counts.
type ReportDay struct {
	Day string
	ReportCounts
}

// FunnelStep is how many drafts reached a step.
type FunnelStep struct {
	Step    string
	Reached int64
}

// Median is the median time to submit of kind, false when there is no sample.
func (r Report) Median(kind string) (time.Duration, bool) {
	ds := r.Took[kind]
	if len(ds) == 0 {
		return 0, false
	}
	ds = slices.Clone(ds)
	slices.Sort(ds)
	n := len(ds)
	if n%2 == 1 {
		return ds[n/2], true
	}
	return (ds[n/2-1] + ds[n/2]) / 2, true
}
