package redisstore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/sangkien/sangkien/bot"
)

func newAudit(t *testing.T, o AuditOptions) (*Audit, *clock) {
	t.Helper()
	s, _ := newStore(t)
	c := &clock{t: time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)}
	o.Now = c.now
	return s.Audit(o), c
}

func record(t *testing.T, a *Audit, e bot.AuditEntry) {
	t.Helper()
	if err := a.Record(context.Background(), e); err != nil {
		t.Fatalf("Record(%+v): %v", e, err)
	}
}

// details lists the entries' Detail fields, which the tests use as names.
func details(es []bot.AuditEntry) string {
	var d []string
	for _, e := range es {
		d = append(d, e.Detail)
	}
	return strings.Join(d, ",")
}

func TestAuditRecordList(t *testing.T) {
	a, clk := newAudit(t, AuditOptions{})
	ctx := context.Background()
	record(t, a, bot.AuditEntry{Staff: " Lan@HaNoi.gov.vn ", Action: bot.AuditLogin, Detail: "1", Addr: "203.0.113.5:41000"})
	clk.add(time.Minute)
	record(t, a, bot.AuditEntry{Staff: "lan@hanoi.gov.vn", Action: bot.AuditTakeover, Conversation: "tg:12345", Detail: "2"})
	// Two entries in one millisecond, and one whose At is older than the last entry's
	// (another process's clock): each is kept, in the order they were recorded.
	record(t, a, bot.AuditEntry{Action: bot.AuditResend, Submission: "sub-1", Detail: "3"})
	record(t, a, bot.AuditEntry{Action: bot.AuditResend, Submission: "sub-2", Detail: "4"})
	record(t, a, bot.AuditEntry{Action: bot.AuditNote, At: clk.now().Add(-time.Hour), Detail: "5"})

	got, next, err := a.List(ctx, AuditQuery{})
	if err != nil || next != "" {
		t.Fatalf("List = %d entries, next %q, %v", len(got), next, err)
	}
	if d := details(got); d != "5,4,3,2,1" {
		t.Fatalf("List order = %s, want newest recorded first", d)
	}
	first := got[4]
	want := bot.AuditEntry{ID: first.ID, At: time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC), Staff: "lan@hanoi.gov.vn",
		Action: bot.AuditLogin, Detail: "1", Addr: "203.0.113.5:41000"}
	if first != want || first.ID == "" {
		t.Errorf("first entry = %+v, want %+v", first, want)
	}
	if got[0].At != clk.now().Add(-time.Hour) || got[1].Submission != "sub-2" || got[3].Conversation != "tg:12345" {
		t.Errorf("entries = %+v", got)
	}
	seen := map[string]bool{}
	for _, e := range got {
		if seen[e.ID] {
			t.Errorf("id %s twice", e.ID)
		}
		seen[e.ID] = true
	}

	if err := a.Record(ctx, bot.AuditEntry{Staff: "lan@hanoi.gov.vn"}); err == nil {
		t.Error("Record without an action succeeded")
	}
	for _, c := range []string{"abc", "12", "12-x", "-1-0", "1-2-3"} {
		if _, _, err := a.List(ctx, AuditQuery{Before: c}); !errors.Is(err, bot.ErrBadAuditCursor) {
			t.Errorf("List(Before %q) = %v, want ErrBadAuditCursor", c, err)
		}
	}
}

func TestAuditPaging(t *testing.T) {
	a, clk := newAudit(t, AuditOptions{})
	ctx := context.Background()
	for i := range 7 {
		record(t, a, bot.AuditEntry{Action: bot.AuditReply, Detail: fmt.Sprint(i)})
		clk.add(time.Second)
	}
	var pages []string
	before := ""
	for range 10 {
		es, next, err := a.List(ctx, AuditQuery{Before: before, Limit: 3})
		if err != nil {
			t.Fatal(err)
		}
		pages = append(pages, details(es))
		if next == "" {
			break
		}
		if next != es[len(es)-1].ID {
			t.Errorf("next = %s, want the page's last id %s", next, es[len(es)-1].ID)
		}
		before = next
	}
	if got := strings.Join(pages, " | "); got != "6,5,4 | 3,2,1 | 0" {
		t.Errorf("pages = %s", got)
	}
	// A last page that is exactly full says there is no other.
	es, _, _ := a.List(ctx, AuditQuery{Limit: 4})
	es, next, err := a.List(ctx, AuditQuery{Before: es[3].ID, Limit: 3})
	if err != nil || details(es) != "2,1,0" || next != "" {
		t.Errorf("last full page = %s, next %q, %v", details(es), next, err)
	}
}

func TestAuditFilters(t *testing.T) {
	a, clk := newAudit(t, AuditOptions{})
	ctx := context.Background()
	entries := []bot.AuditEntry{
		{Staff: "lan@hanoi.gov.vn", Action: bot.AuditLogin, Detail: "a"},
		{Staff: "lan@hanoi.gov.vn", Action: bot.AuditTakeover, Conversation: "tg:1", Detail: "b"},
		{Staff: "an@hanoi.gov.vn", Action: bot.AuditTakeover, Conversation: "tg:2", Detail: "c"},
		{Staff: "lan@hanoi.gov.vn", Action: bot.AuditReply, Conversation: "tg:1", Detail: "d"},
		{Action: bot.AuditResend, Submission: "s1", Detail: "e"},
		{Staff: "an@hanoi.gov.vn", Action: bot.AuditReply, Conversation: "tg:1", Detail: "f"},
		{Staff: "lan@hanoi.gov.vn", Action: bot.AuditHandback, Conversation: "tg:1", Detail: "g"},
	}
	for _, e := range entries {
		record(t, a, e)
		clk.add(time.Second)
	}
	tests := []struct {
		name string
		q    AuditQuery
		want string
	}{
		{"staff", AuditQuery{Staff: "LAN@hanoi.gov.vn"}, "g,d,b,a"},
		{"action", AuditQuery{Action: bot.AuditTakeover}, "c,b"},
		{"conversation", AuditQuery{Conversation: "tg:1"}, "g,f,d,b"},
		{"all three", AuditQuery{Staff: "lan@hanoi.gov.vn", Action: bot.AuditReply, Conversation: "tg:1"}, "d"},
		{"none match", AuditQuery{Action: bot.AuditStaffAdd}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			es, next, err := a.List(ctx, tt.q)
			if err != nil || details(es) != tt.want || next != "" {
				t.Errorf("List = %s, next %q, %v; want %s", details(es), next, err, tt.want)
			}
		})
	}
	// A filtered page goes on from its last match.
	es, next, err := a.List(ctx, AuditQuery{Conversation: "tg:1", Limit: 2})
	if err != nil || details(es) != "g,f" || next != es[1].ID {
		t.Fatalf("first page = %s, next %q, %v", details(es), next, err)
	}
	es, next, err = a.List(ctx, AuditQuery{Conversation: "tg:1", Limit: 2, Before: next})
	if err != nil || details(es) != "d,b" {
		t.Errorf("second page = %s, next %q, %v", details(es), next, err)
	}
	if next != "" {
		if es, _, _ := a.List(ctx, AuditQuery{Conversation: "tg:1", Before: next}); len(es) != 0 {
			t.Errorf("third page = %s", details(es))
		}
	}
}

// TestAuditScanBound checks that a filtered List reading many non-matching entries
// stops, hands back a cursor, and that the cursor leads on to the older match; and
// that a page is never longer than MaxAuditLimit.
func TestAuditScanBound(t *testing.T) {
	a, _ := newAudit(t, AuditOptions{})
	ctx := context.Background()
	record(t, a, bot.AuditEntry{Action: bot.AuditStaffAdd, Detail: "old match"})
	for range auditScanMax + 10 {
		record(t, a, bot.AuditEntry{Action: bot.AuditReply})
	}
	es, next, err := a.List(ctx, AuditQuery{Action: bot.AuditStaffAdd})
	if err != nil || len(es) != 0 || next == "" {
		t.Fatalf("first filtered List = %s, next %q, %v; want nothing and a cursor", details(es), next, err)
	}
	es, next, err = a.List(ctx, AuditQuery{Action: bot.AuditStaffAdd, Before: next})
	if err != nil || details(es) != "old match" || next != "" {
		t.Errorf("second filtered List = %s, next %q, %v", details(es), next, err)
	}
	es, next, err = a.List(ctx, AuditQuery{Limit: 10000})
	if err != nil || len(es) != MaxAuditLimit || next != es[MaxAuditLimit-1].ID {
		t.Errorf("List(Limit 10000) = %d entries, next %q, %v", len(es), next, err)
	}
}

func TestAuditRetention(t *testing.T) {
	a, clk := newAudit(t, AuditOptions{Retention: 30 * 24 * time.Hour})
	ctx := context.Background()
	// More old entries than one stream node holds, so the approximate trim has whole
	// nodes to drop.
	const old = 300
	for i := range old {
		record(t, a, bot.AuditEntry{Action: bot.AuditReply, Detail: fmt.Sprint("old ", i)})
	}
	clk.add(20 * 24 * time.Hour)
	record(t, a, bot.AuditEntry{Action: bot.AuditNote, Detail: "recent"})
	if n := a.c.XLen(ctx, a.key).Val(); n != old+1 {
		t.Fatalf("entries within the retention were trimmed: %d left", n)
	}
	clk.add(11 * 24 * time.Hour)
	record(t, a, bot.AuditEntry{Action: bot.AuditLogin, Detail: "new"})

	es, next, err := a.List(ctx, AuditQuery{Limit: MaxAuditLimit})
	if err != nil || details(es) != "new,recent" || next != "" {
		t.Errorf("List after the retention = %s, next %q, %v", details(es), next, err)
	}
	if es, _, _ := a.List(ctx, AuditQuery{Action: bot.AuditReply}); len(es) != 0 {
		t.Errorf("filtered List shows %d expired entries", len(es))
	}
	if n := a.c.XLen(ctx, a.key).Val(); n >= old {
		t.Errorf("stream still holds %d entries: the old ones were not trimmed", n)
	}
}

func TestAuditDetailCut(t *testing.T) {
	a, clk := newAudit(t, AuditOptions{})
	ctx := context.Background()
	long := strings.Repeat("ệ", 600)
	exact := strings.Repeat("ư", bot.AuditDetailMax)
	record(t, a, bot.AuditEntry{Action: bot.AuditNote, Detail: long})
	clk.add(time.Second)
	record(t, a, bot.AuditEntry{Action: bot.AuditNote, Detail: exact})
	es, _, err := a.List(ctx, AuditQuery{})
	if err != nil || len(es) != 2 {
		t.Fatalf("List = %d, %v", len(es), err)
	}
	if es[0].Detail != exact {
		t.Errorf("a Detail of exactly %d characters was changed", bot.AuditDetailMax)
	}
	cut := es[1].Detail
	if utf8.RuneCountInString(cut) != bot.AuditDetailMax || cut != strings.Repeat("ệ", bot.AuditDetailMax-1)+"…" {
		t.Errorf("cut Detail = %d characters, ends %q", utf8.RuneCountInString(cut), cut[len(cut)-8:])
	}
}

// Record cuts the staff field to the longest email, never inside a character.
func TestAuditCutsStaff(t *testing.T) {
	s, _ := newStore(t)
	a := s.Audit(AuditOptions{})
	ctx := context.Background()
	long := strings.Repeat("ả", 300) + "@hanoi.gov.vn"
	if err := a.Record(ctx, bot.AuditEntry{Staff: long, Action: bot.AuditLoginFailed}); err != nil {
		t.Fatal(err)
	}
	entries, _, err := a.List(ctx, AuditQuery{})
	if err != nil || len(entries) != 1 {
		t.Fatalf("List = %v, %v", entries, err)
	}
	if got := entries[0].Staff; got != strings.Repeat("ả", bot.EmailMax/len("ả")) {
		t.Errorf("staff kept %d bytes: %q", len(got), got)
	}
}
