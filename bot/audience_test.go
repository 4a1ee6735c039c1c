package bot_test

import (
	"slices"
	"strconv"
	"testing"

	"github.com/sangkien/sangkien/bot"
)

func TestAudiencesOf(t *testing.T) {
	draft := bot.State{Flow: bot.KindInitiative, Step: "title", Draft: &bot.Draft{Proposal: bot.Proposal{ProgramID: "p1"}}}
	for _, tc := range []struct {
		label string
		s     bot.Session
		want  bot.Audiences
	}{
		{"a new citizen, no language yet", bot.Session{},
			bot.Audiences{Lang: "vi", Indexes: []string{"all", "news"}}},
		{"following two programs, a draft in one", bot.Session{Profile: bot.Profile{Lang: "en", Programs: []string{"p1", "p2"}}, State: draft},
			bot.Audiences{Lang: "en", Indexes: []string{"all", "news", "prog:p1", "prog:p2", "draft:p1"}}},
		{"said stop: reachable only", bot.Session{Profile: bot.Profile{OptedOut: true, Programs: []string{"p1"}}, State: draft},
			bot.Audiences{Lang: "vi", Indexes: []string{"all"}}},
		{"blocked the bot: none", bot.Session{Profile: bot.Profile{Unreachable: true, Programs: []string{"p1"}}, State: draft},
			bot.Audiences{Lang: "vi"}},
		{"a feedback draft is no initiative draft", bot.Session{State: bot.State{Flow: bot.KindFeedback, Draft: &bot.Draft{Proposal: bot.Proposal{ProgramID: "p1"}}}},
			bot.Audiences{Lang: "vi", Indexes: []string{"all", "news"}}},
	} {
		t.Run(tc.label, func(t *testing.T) {
			got := bot.AudiencesOf(&tc.s)
			if got.Lang != tc.want.Lang || !slices.Equal(got.Indexes, tc.want.Indexes) {
				t.Errorf("AudiencesOf = %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestAudienceMoves(t *testing.T) {
	ix := func(lang string, names ...string) []bot.AudienceIndex {
		var out []bot.AudienceIndex
		for _, n := range names {
			out = append(out, bot.AudienceIndex{Lang: lang, Name: n})
		}
		return out
	}
	for _, tc := range []struct {
		label       string
		c           bot.AudienceChange
		join, leave []bot.AudienceIndex
	}{
		{"an ordinary message moves nothing", bot.AudienceChange{
			Before: bot.Audiences{Lang: "vi", Indexes: []string{"all", "news"}},
			After:  bot.Audiences{Lang: "vi", Indexes: []string{"all", "news"}}}, nil, nil},
		{"submitting ends the draft", bot.AudienceChange{
			Before: bot.Audiences{Lang: "vi", Indexes: []string{"all", "news", "prog:p", "draft:p"}},
			After:  bot.Audiences{Lang: "vi", Indexes: []string{"all", "news", "prog:p"}}}, nil, ix("vi", "draft:p")},
		{"a new language moves every index", bot.AudienceChange{
			Before: bot.Audiences{Lang: "vi", Indexes: []string{"all", "news"}},
			After:  bot.Audiences{Lang: "en", Indexes: []string{"all", "news"}}}, ix("en", "all", "news"), ix("vi", "all", "news")},
		{"forget leaves all", bot.AudienceChange{
			Before: bot.Audiences{Lang: "en", Indexes: []string{"all", "news", "prog:p"}}}, nil, ix("en", "all", "news", "prog:p")},
	} {
		t.Run(tc.label, func(t *testing.T) {
			join, leave := tc.c.Moves()
			if !slices.Equal(join, tc.join) || !slices.Equal(leave, tc.leave) {
				t.Errorf("Moves = %v, %v; want %v, %v", join, leave, tc.join, tc.leave)
			}
		})
	}
}

func TestProfileFollowIsBounded(t *testing.T) {
	var p bot.Profile
	for i := range bot.ProgramsMax + 5 {
		p.Follow("p" + strconv.Itoa(i))
		p.Follow("p" + strconv.Itoa(i)) // again: no change
	}
	p.Follow("")
	if len(p.Programs) != bot.ProgramsMax {
		t.Fatalf("follows %d programs, want %d", len(p.Programs), bot.ProgramsMax)
	}
	if p.Programs[0] != "p5" || p.Programs[bot.ProgramsMax-1] != "p"+strconv.Itoa(bot.ProgramsMax+4) {
		t.Errorf("programs = %v, want the newest %d", p.Programs, bot.ProgramsMax)
	}
}

func TestAudienceQueryValidate(t *testing.T) {
	for _, tc := range []struct {
		q     bot.AudienceQuery
		ok    bool
		index string
	}{
		{bot.AudienceQuery{Kind: bot.AudienceAll}, true, "all"},
		{bot.AudienceQuery{Kind: bot.AudienceSubscribed, Channel: bot.Zalo, Lang: "en"}, true, "news"},
		{bot.AudienceQuery{Kind: bot.AudienceProgram, Program: "p"}, true, "prog:p"},
		{bot.AudienceQuery{Kind: bot.AudienceDraft, Program: "p"}, true, "draft:p"},
		{bot.AudienceQuery{Kind: bot.AudienceDraft}, false, ""},
		{bot.AudienceQuery{Kind: bot.AudienceAll, Program: "p"}, false, ""},
		{bot.AudienceQuery{Kind: "everyone"}, false, ""},
		{bot.AudienceQuery{Kind: bot.AudienceAll, Lang: "fr"}, false, ""},
		{bot.AudienceQuery{Kind: bot.AudienceAll, Channel: "sms"}, false, ""},
		{bot.AudienceQuery{Kind: bot.AudienceProgram, Program: "p", WithoutDrafts: true}, true, "prog:p"},
		{bot.AudienceQuery{Kind: bot.AudienceDraft, Program: "p", WithoutDrafts: true}, false, ""},
		{bot.AudienceQuery{Kind: bot.AudienceSubscribed, WithoutDrafts: true}, false, ""},
	} {
		err := tc.q.Validate()
		if (err == nil) != tc.ok {
			t.Errorf("%+v: Validate() = %v, want ok %v", tc.q, err, tc.ok)
		}
		if tc.ok && tc.q.Index() != tc.index {
			t.Errorf("%+v: Index() = %q, want %q", tc.q, tc.q.Index(), tc.index)
		}
	}
}
