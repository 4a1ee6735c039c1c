package programs_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sangkien/sangkien/bot"
	"github.com/sangkien/sangkien/bot/bottest"
	"github.com/sangkien/sangkien/bot/redisstore"
	"github.com/sangkien/sangkien/bot/redisstore/redistest"
	"github.com/sangkien/sangkien/broadcast"
	"github.com/sangkien/sangkien/programs"
)

// clock is a test's time, moved by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// process is one gateway's view of the shared edits: its own Redis client (which an
// outage may cut), log and Live.
type process struct {
	live    *programs.Live
	edits   *redisstore.ProgramEdits
	outage  *redistest.Outage
	log     *bottest.LogBuffer
	catalog bot.Programs
}

func newProcess(t *testing.T, prefix string, file bot.Programs, now func() time.Time) *process {
	t.Helper()
	c := redistest.Client(t)
	p := &process{outage: &redistest.Outage{}, log: &bottest.LogBuffer{}, catalog: file}
	c.AddHook(p.outage)
	p.edits = redisstore.New(c, redisstore.Options{Prefix: prefix, Logger: p.log.Logger()}).ProgramEdits()
	p.live = programs.NewLive(file, p.edits, p.log.Logger(), now)
	return p
}

func loadFile(t *testing.T) bot.Programs {
	t.Helper()
	ps, err := programs.Load(strings.NewReader(programsYAML))
	if err != nil {
		t.Fatal(err)
	}
	return ps
}

func deadlineOf(t *testing.T, ps bot.Programs, id string) time.Time {
	t.Helper()
	p, ok := ps.Get(id)
	if !ok {
		t.Fatalf("no program %s in %v", id, ps)
	}
	return p.Deadline
}

func TestLiveLaysEditsOverTheFile(t *testing.T) {
	file := loadFile(t)
	clk := &clock{t: time.Date(2026, 11, 1, 9, 0, 0, 0, bot.HoChiMinh())}
	prefix := redistest.Prefix(t)
	a := newProcess(t, prefix, file, clk.Now)
	b := newProcess(t, prefix, file, clk.Now)
	ctx := context.Background()

	if got := a.live.Programs(); !slices.EqualFunc(got, file, func(x, y bot.Program) bool { return x.ID == y.ID && x.Deadline.Equal(y.Deadline) }) {
		t.Fatalf("without edits: %v, want the file's %v", got, file)
	}
	b.live.Programs() // b has read the edits now: none

	xanh, _ := file.Get("xanh")
	e := programs.EditOf(xanh)
	e.Name.EN = "Green capital 2027"
	e.Deadline = time.Date(2027, 1, 15, 17, 0, 0, 0, bot.HoChiMinh())
	e.Reminders = []string{"opening", "3d", "12h"}
	if err := a.live.Put(ctx, "xanh", e); err != nil {
		t.Fatal(err)
	}
	got, _ := a.live.Programs().Get("xanh")
	if got.Name.EN != "Green capital 2027" || got.Name.VI != xanh.Name.VI || !got.Deadline.Equal(e.Deadline) ||
		!slices.Equal(got.Reminders, []bot.Reminder{{AtOpening: true}, {Before: 72 * time.Hour}, {Before: 12 * time.Hour}}) {
		t.Errorf("the editing process sees %+v at once, want the edit", got)
	}
	if len(got.Fields) != 1 || got.Fields[0].ServiceCode != "101" {
		t.Errorf("an edit keeps the file's fields: %+v", got.Fields)
	}
	if d := deadlineOf(t, b.live.Programs(), "xanh"); !d.Equal(xanh.Deadline) {
		t.Errorf("another process re-read before %s: deadline %v", programs.Refresh, d)
	}
	clk.Add(programs.Refresh)
	if d := deadlineOf(t, b.live.Programs(), "xanh"); !d.Equal(e.Deadline) {
		t.Errorf("another process, %s later: deadline %v, want %v", programs.Refresh, d, e.Deadline)
	}
	if d := deadlineOf(t, file, "xanh"); !d.Equal(xanh.Deadline) {
		t.Errorf("the file's catalog changed: %v", d)
	}
	if ps, edits, err := b.live.Read(ctx); err != nil || len(edits) != 1 || edits["xanh"].Name.EN != "Green capital 2027" ||
		!deadlineOf(t, ps, "xanh").Equal(e.Deadline) {
		t.Errorf("read: %v, %+v, %v", ps, edits, err)
	}

	// An edit that does not stand is left out, with a log line; the others apply.
	if err := a.edits.Put(ctx, "so", `{"name":{"vi":"Số"}}`); err != nil {
		t.Fatal(err)
	}
	if err := a.edits.Put(ctx, "gone", `{}`); err != nil {
		t.Fatal(err)
	}
	clk.Add(programs.Refresh)
	ps := a.live.Programs()
	if p, _ := ps.Get("so"); p.Name.VI != "Chuyển đổi số" {
		t.Errorf("a broken edit was applied: %+v", p)
	}
	if _, ok := ps.Get("gone"); ok || len(ps) != 2 || !deadlineOf(t, ps, "xanh").Equal(e.Deadline) {
		t.Errorf("catalog with broken edits: %v", ps)
	}
	if log := a.log.String(); !strings.Contains(log, "an edit is left out") || !strings.Contains(log, "program=gone") {
		t.Errorf("log: %s", log)
	}

	if ok, err := a.live.Reset(ctx, "xanh"); err != nil || !ok {
		t.Errorf("reset: %v, %v", ok, err)
	}
	if d := deadlineOf(t, a.live.Programs(), "xanh"); !d.Equal(xanh.Deadline) {
		t.Errorf("after the reset: deadline %v, want the file's", d)
	}
	if ok, err := a.live.Reset(ctx, "xanh"); err != nil || ok {
		t.Errorf("reset again: %v, %v", ok, err)
	}
}

func TestLivePutRefusesWhatCannotStand(t *testing.T) {
	file := loadFile(t)
	p := newProcess(t, redistest.Prefix(t), file, nil)
	xanh, _ := file.Get("xanh")
	ctx := context.Background()
	if err := p.live.Put(ctx, "nope", programs.EditOf(xanh)); !errors.Is(err, programs.ErrUnknown) {
		t.Errorf("unknown program: %v", err)
	}
	for name, edit := range map[string]func(*programs.Edit){
		"no english name": func(e *programs.Edit) { e.Name.EN = " " },
		"deadline first":  func(e *programs.Edit) { e.Deadline = e.Opens.Add(-time.Hour) },
		"no opening":      func(e *programs.Edit) { e.Opens = time.Time{} },
		"bad offset":      func(e *programs.Edit) { e.Reminders = []string{"7d", "soon"} },
		"twice":           func(e *programs.Edit) { e.Reminders = []string{"7d", "168h"} },
	} {
		e := programs.EditOf(xanh)
		edit(&e)
		if err := p.live.Put(ctx, "xanh", e); err == nil || !strings.HasPrefix(err.Error(), `program "xanh": `) {
			t.Errorf("%s: err = %v", name, err)
		}
	}
	if raw, err := p.edits.List(ctx); err != nil || len(raw) != 0 {
		t.Errorf("refused edits were stored: %v, %v", raw, err)
	}
}

func TestLiveKeepsTheLastCatalogThroughAnOutage(t *testing.T) {
	file := loadFile(t)
	clk := &clock{t: time.Date(2026, 11, 1, 9, 0, 0, 0, bot.HoChiMinh())}
	p := newProcess(t, redistest.Prefix(t), file, clk.Now)
	ctx := context.Background()
	xanh, _ := file.Get("xanh")
	e := programs.EditOf(xanh)
	e.Deadline = xanh.Deadline.Add(48 * time.Hour)
	if err := p.live.Put(ctx, "xanh", e); err != nil {
		t.Fatal(err)
	}
	p.outage.Begin()
	for range 3 {
		clk.Add(programs.Refresh)
		if d := deadlineOf(t, p.live.Programs(), "xanh"); !d.Equal(e.Deadline) {
			t.Fatalf("during the outage: deadline %v, want the edited %v", d, e.Deadline)
		}
	}
	if _, _, err := p.live.Read(ctx); err == nil {
		t.Error("the edits page read the edits during the outage")
	}
	if n := strings.Count(p.log.String(), "cannot be read"); n != 1 {
		t.Errorf("the outage logged %d times, want once: %s", n, p.log.String())
	}
	p.outage.End()
	clk.Add(programs.Refresh)
	p.live.Programs()
	if !strings.Contains(p.log.String(), "read again") {
		t.Errorf("the end of the outage is not logged: %s", p.log.String())
	}

	// A process that starts during an outage serves the file.
	q := newProcess(t, redistest.Prefix(t), file, clk.Now)
	q.outage.Begin()
	if d := deadlineOf(t, q.live.Programs(), "xanh"); !d.Equal(xanh.Deadline) {
		t.Errorf("starting in an outage: deadline %v, want the file's", d)
	}
}

func TestLiveConcurrentReadersAndEdits(t *testing.T) {
	file := loadFile(t)
	clk := &clock{t: time.Date(2026, 11, 1, 9, 0, 0, 0, bot.HoChiMinh())}
	p := newProcess(t, redistest.Prefix(t), file, clk.Now)
	xanh, _ := file.Get("xanh")
	ctx := context.Background()
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 200 {
				if ps := p.live.Programs(); len(ps) != 2 {
					t.Errorf("a reader saw %d programs", len(ps))
					return
				}
			}
		})
	}
	for i := range 20 {
		e := programs.EditOf(xanh)
		e.Deadline = xanh.Deadline.Add(time.Duration(i+1) * time.Hour)
		if err := p.live.Put(ctx, "xanh", e); err != nil {
			t.Fatal(err)
		}
		clk.Add(programs.Refresh / 4)
	}
	wg.Wait()
	if d := deadlineOf(t, p.live.Programs(), "xanh"); !d.Equal(xanh.Deadline.Add(20 * time.Hour)) {
		t.Errorf("after the edits: deadline %v", d)
	}
}

// A reminder's broadcast id names its program's deadline, and only reminders whose
// time came are made into broadcasts: moving the deadline in the console moves every
// reminder not yet made, with no other step.
func TestEditedDeadlineReschedulesReminders(t *testing.T) {
	file := loadFile(t)
	xanh, _ := file.Get("xanh")
	now := xanh.Deadline.Add(-3 * 24 * time.Hour)
	clk := &clock{t: now}
	p := newProcess(t, redistest.Prefix(t), file, clk.Now)
	r := broadcast.Reminders{Programs: p.live, Catalog: bottest.Catalog(t)}
	ids := func(at time.Time) []string {
		due, _ := r.Due(at)
		var out []string
		for _, b := range due {
			if b.Audience.Program == "xanh" || strings.Contains(b.ID, "xanh") {
				out = append(out, b.ID)
			}
		}
		slices.Sort(out)
		return out
	}
	before := ids(now)
	if len(before) == 0 {
		t.Fatalf("no reminder of xanh due three days before its deadline")
	}
	dayBefore := ids(xanh.Deadline.Add(-23 * time.Hour))

	e := programs.EditOf(xanh)
	e.Deadline = xanh.Deadline.Add(30 * 24 * time.Hour)
	if err := p.live.Put(context.Background(), "xanh", e); err != nil {
		t.Fatal(err)
	}
	for _, at := range []time.Time{now, xanh.Deadline.Add(-23 * time.Hour)} {
		for _, id := range ids(at) {
			if slices.Contains(before, id) || slices.Contains(dayBefore, id) {
				t.Errorf("at %v, after the deadline moved a month: reminder %s of the old deadline is still due", at, id)
			}
		}
	}
	moved := ids(e.Deadline.Add(-23 * time.Hour))
	if len(moved) == 0 {
		t.Fatal("no reminder due a day before the new deadline")
	}
	for _, id := range moved {
		if slices.Contains(dayBefore, id) {
			t.Errorf("reminder %s has the id it had before the deadline moved", id)
		}
	}
}

// What a turn pays to read the catalog: once read, an atomic load and a clock read.
func BenchmarkLivePrograms(b *testing.B) {
	ps, err := programs.Load(strings.NewReader(programsYAML))
	if err != nil {
		b.Fatal(err)
	}
	c := redistest.Client(b)
	live := programs.NewLive(ps, redisstore.New(c, redisstore.Options{Prefix: redistest.Prefix(b)}).ProgramEdits(),
		(&bottest.LogBuffer{}).Logger(), nil)
	live.Programs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if len(live.Programs()) != 2 {
				b.Error("lost a program")
			}
		}
	})
}
