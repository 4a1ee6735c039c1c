package bot

import (
	"errors"
	"fmt"
	"slices"
	"time"
)

// This file says whom a broadcast can reach. Every commit keeps, beside the session,
// the conversation's place in a few audience indexes (bot/redisstore/audience.go), so
// that a broadcast to 100,000 citizens reads its recipients page by page instead of
// scanning every session:
//
//	all            reachable: the channel has not told us the citizen blocked or left
//	news           reachable and subscribed to announcements (did not say "stop")
//	prog:<id>      reachable, subscribed, and following the program
//	draft:<id>     reachable, subscribed, with an unfinished initiative in the program
//
// "stop" takes the citizen out of every announcement audience, the personal draft
// reminders included: the rule is never to write to someone who said stop.
// They stay in "all" (the reachable), so that news ⊆ all and a preview counts those
// who said stop as the difference; a broadcast of announcements reads news, prog or
// draft, never all. Erasing the data (forget) leaves every index.

// AudienceKind names what a broadcast is sent to.
type AudienceKind string

// Audience kinds.
const (
	AudienceAll        AudienceKind = "all"        // every reachable citizen, those who said stop included
	AudienceSubscribed AudienceKind = "subscribed" // everyone subscribed to announcements
	AudienceProgram    AudienceKind = "program"    // the followers of a program
	AudienceDraft      AudienceKind = "draft"      // the owners of an unfinished draft in a program
)

// AudienceQuery selects an audience: its kind, the program (for program and draft) and,
// optionally, one channel and one language.
type AudienceQuery struct {
	Kind    AudienceKind
	Program string
	Channel Channel // "" for every channel
	Lang    string  // "vi", "en", or "" for both
	// WithoutDrafts, for a program's followers, leaves out those with an unfinished
	// draft in it: a program's reminder goes to them as a personal draft reminder
	// instead (broadcast.Reminders), so that nobody is told twice. A count of the
	// audience (a preview) still includes them.
	WithoutDrafts bool `json:",omitempty"`
}

// Validate reports a query no index answers.
func (q AudienceQuery) Validate() error {
	switch q.Kind {
	case AudienceAll, AudienceSubscribed:
		if q.Program != "" {
			return fmt.Errorf("audience %s: takes no program", q.Kind)
		}
	case AudienceProgram, AudienceDraft:
		if q.Program == "" {
			return fmt.Errorf("audience %s: a program is required", q.Kind)
		}
	default:
		return fmt.Errorf("audience %q: unknown (all, subscribed, program or draft)", q.Kind)
	}
	if q.WithoutDrafts && q.Kind != AudienceProgram {
		return fmt.Errorf("audience %s: only a program's followers can leave out the draft owners", q.Kind)
	}
	if q.Channel != "" && !slices.Contains(AudienceChannels(), q.Channel) {
		return fmt.Errorf("audience: unknown channel %q", q.Channel)
	}
	if q.Lang != "" && !slices.Contains(AudienceLangs(), q.Lang) {
		return fmt.Errorf("audience: unknown language %q (vi or en)", q.Lang)
	}
	return nil
}

// Index is the name of the index the query reads.
func (q AudienceQuery) Index() string {
	switch q.Kind {
	case AudienceSubscribed:
		return "news"
	case AudienceProgram:
		return "prog:" + q.Program
	case AudienceDraft:
		return "draft:" + q.Program
	}
	return "all"
}

// AudienceMember is one recipient as an index names it.
type AudienceMember struct {
	Conversation ConversationRef
	Lang         string // "vi" or "en": the language to write to them in
	// Since is when the citizen joined this audience (the order of the walk).
	Since time.Time
	// DraftTitle, in the draft audience, is the title of the citizen's unfinished
	// initiative ("" when they have not given one yet), for their personal reminder
	// (Broadcast.Personal). Personal data: never logged.
	DraftTitle string
}

// AudienceChannels are the channels the indexes are kept for, in the order a walk
// of every channel reads them.
func AudienceChannels() []Channel { return []Channel{Telegram, Zalo, Web, Terminal} }

// AudienceLangs are the languages the indexes are kept for, in walking order.
func AudienceLangs() []string { return []string{"vi", "en"} }

// Audiences is one conversation's membership: its language and the indexes it is in.
type Audiences struct {
	Lang    string
	Indexes []string
}

// AudiencesOf is where s belongs, as an event leaves it.
func AudiencesOf(s *Session) Audiences {
	p := s.Profile
	a := Audiences{Lang: audienceLang(p.Lang)}
	if p.Unreachable {
		return a
	}
	a.Indexes = append(a.Indexes, "all")
	if p.OptedOut {
		return a
	}
	a.Indexes = append(a.Indexes, "news")
	for _, id := range p.Programs {
		a.Indexes = append(a.Indexes, "prog:"+id)
	}
	if d := s.State.Draft; d != nil && s.State.Flow == KindInitiative && d.ProgramID != "" {
		a.Indexes = append(a.Indexes, "draft:"+d.ProgramID)
	}
	return a
}

// audienceLang is the language a citizen is written to in: Vietnamese until they chose.
func audienceLang(lang string) string {
	if lang == "en" {
		return "en"
	}
	return "vi"
}

// AudienceIndex names one index of one language (the channel is the conversation's).
type AudienceIndex struct {
	Lang, Name string
}

// AudienceChange is the membership before and after one event, for the store to
// write only what moved: an ordinary message moves nothing and costs nothing.
type AudienceChange struct {
	Before, After Audiences
}

// Moves are the indexes the conversation joins and those it leaves. A change of
// language leaves every index of the old one and joins those of the new.
func (c AudienceChange) Moves() (join, leave []AudienceIndex) {
	sameLang := c.Before.Lang == c.After.Lang
	for _, n := range c.After.Indexes {
		if !sameLang || !slices.Contains(c.Before.Indexes, n) {
			join = append(join, AudienceIndex{c.After.Lang, n})
		}
	}
	for _, n := range c.Before.Indexes {
		if !sameLang || !slices.Contains(c.After.Indexes, n) {
			leave = append(leave, AudienceIndex{c.Before.Lang, n})
		}
	}
	return join, leave
}

// ProgramsMax bounds Profile.Programs: a citizen who followed more has the oldest
// dropped (and leaves its audience).
const ProgramsMax = 20

// Follow adds a program to those the citizen follows; following one again changes
// nothing.
func (p *Profile) Follow(program string) {
	if program == "" || slices.Contains(p.Programs, program) {
		return
	}
	p.Programs = append(p.Programs, program)
	if n := len(p.Programs); n > ProgramsMax {
		p.Programs = slices.Clone(p.Programs[n-ProgramsMax:])
	}
}

// followPrograms makes the citizen follow the program of their initiative draft and of
// what they submitted. Reading the session after the flow, rather than at each place a
// flow sets a program (the program step, a deep link, the only open program, an edit
// from the review), keeps the rule in one place that no new path can miss.
func followPrograms(s *Session, sub *Submission) {
	if d := s.State.Draft; d != nil && s.State.Flow == KindInitiative {
		s.Profile.Follow(d.ProgramID)
	}
	if sub != nil && sub.Kind == KindInitiative {
		s.Profile.Follow(sub.ProgramID)
	}
}

// audienceBefore is the membership the indexes hold for s as Begin loaded it. A profile
// written before the indexes existed is in none of them yet, so its first event writes
// every index it belongs to.
func audienceBefore(s *Session) Audiences {
	if !s.Profile.Indexed {
		return Audiences{Lang: audienceLang(s.Profile.Lang)}
	}
	return AudiencesOf(s)
}

// ErrAudienceCursor is returned for a cursor that does not belong to the query.
var ErrAudienceCursor = errors.New("audience: the cursor does not belong to this query")
