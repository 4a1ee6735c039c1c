package flows

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	json "github.com/go-json-experiment/json/v1"

	"github.com/sangkien/sangkien/bot"
	"github.com/sangkien/sangkien/locales"
	"github.com/sangkien/sangkien/programs"
)

var update = flag.Bool("update", false, "rewrite the golden transcripts in testdata/")

// testStart is the tests' clock: a Saturday morning in Hanoi.
var testStart = time.Date(2026, 11, 28, 9, 0, 0, 0, bot.HoChiMinh())

// fakeRefs numbers references in memory, from where a busy year would be.
type fakeRefs struct {
	mu   sync.Mutex
	next map[string]int64
	fail bool
}

func newFakeRefs() *fakeRefs {
	return &fakeRefs{next: map[string]int64{"SK-2026": 123, "GY-2026": 45}}
}

func (f *fakeRefs) NextReference(_ context.Context, prefix string, year int) (int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail {
		return 0, errors.New("references are down")
	}
	key := prefix + "-" + strconv.Itoa(year)
	if f.next[key] == 0 {
		f.next[key] = 1
	}
	n := f.next[key]
	f.next[key]++
	return n, nil
}

func loadTestPrograms(t testing.TB) bot.Programs {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "programs.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ps, err := programs.Load(f)
	if err != nil {
		t.Fatal(err)
	}
	return ps
}

var (
	catalogOnce sync.Once
	catalog     *locales.Catalog
	catalogErr  error
)

func testCatalog(t testing.TB) *locales.Catalog {
	t.Helper()
	catalogOnce.Do(func() { catalog, catalogErr = locales.New() })
	if catalogErr != nil {
		t.Fatal(catalogErr)
	}
	return catalog
}

// harness plays the engine's part around a Router: it keeps the session between
// events, erases it on Forget, moves a fake clock, and writes the transcript.
type harness struct {
	t     testing.TB
	r     *Router
	refs  *fakeRefs
	now   time.Time
	s     *bot.Session
	hint  string
	n     int
	ids   int
	out   strings.Builder
	check bool
}

func newHarness(t testing.TB, hint string, start time.Time) *harness {
	t.Helper()
	h := &harness{t: t, refs: newFakeRefs(), now: start, hint: hint, check: true}
	r, err := NewRouter(Config{
		Programs: loadTestPrograms(t),
		Catalog:  testCatalog(t),
		Refs:     h.refs,
		Now:      func() time.Time { return h.now },
		NewID: func() string {
			h.ids++
			return fmt.Sprintf("draft-%02d", h.ids)
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	h.r = r
	h.reset()
	return h
}

func (h *harness) reset() {
	h.s = &bot.Session{Conversation: bot.ConversationRef{Channel: bot.Telegram, ID: "4242"}, New: true}
}

// act is one thing the citizen does (or the time that passes).
type act struct {
	ev   bot.Event
	wait time.Duration
	seed func(*bot.Session)
}

func say(text string) act { return act{ev: bot.Event{Kind: bot.EventText, Text: text}} }
func staff(kind bot.EventKind, name, text string) act {
	return act{ev: bot.Event{Kind: kind, Staff: name, StaffEmail: "lan@hanoi.gov.vn", Text: text}}
}
func press(payload string) act {
	return act{ev: bot.Event{Kind: bot.EventButton, Payload: payload}}
}
func command(name, payload string) act {
	return act{ev: bot.Event{Kind: bot.EventCommand, Command: name, Payload: payload}}
}
func share(name, phone string, own bool) act {
	return act{ev: bot.Event{Kind: bot.EventContact, Contact: &bot.Contact{Name: name, Phone: phone, Own: own}}}
}
func place(lat, lon float64, label string) act {
	return act{ev: bot.Event{Kind: bot.EventLocation, Location: &bot.Location{Lat: lat, Lon: lon, Label: label}}}
}
func send(caption string, files ...bot.Attachment) act {
	return act{ev: bot.Event{Kind: bot.EventAttachments, Text: caption, Attachments: files}}
}
func other(what string) act {
	return act{ev: bot.Event{Kind: bot.EventUnsupported, Unsupported: what}}
}

// cityStatus is a status change from the city's intake, as the engine gets it.
func cityStatus(c bot.StatusChange) act {
	return act{ev: bot.Event{Kind: bot.EventStatus, Status: &c}}
}
func follow() act                   { return act{ev: bot.Event{Kind: bot.EventFollow}} }
func unfollow() act                 { return act{ev: bot.Event{Kind: bot.EventUnfollow}} }
func wait(d time.Duration) act      { return act{wait: d} }
func seed(f func(*bot.Session)) act { return act{seed: f} }
func photo(ref string) bot.Attachment {
	return bot.Attachment{Kind: bot.Photo, Ref: ref, Size: 180_000}
}
func doc(name, mime string, size int64) bot.Attachment {
	return bot.Attachment{Kind: bot.Document, Ref: "file-" + name, Name: name, MIME: mime, Size: size}
}

// missingKey is how a message id without a text renders.
var missingKey = regexp.MustCompile(`\[[a-z_]+(\.[a-z_]+)+\]`)

// do runs one act and writes it to the transcript.
func (h *harness) do(ctx context.Context, a act) {
	h.t.Helper()
	switch {
	case a.wait > 0:
		h.now = h.now.Add(a.wait)
		fmt.Fprintf(&h.out, "~~ %s later ~~\n\n", a.wait)
		return
	case a.seed != nil:
		a.seed(h.s)
		return
	}
	h.n++
	h.now = h.now.Add(30 * time.Second) // a citizen takes a moment to answer
	ev := a.ev
	ev.ID = fmt.Sprintf("ev-%d", h.n)
	ev.Conversation = h.s.Conversation
	ev.Lang = h.hint
	ev.At = h.now
	fmt.Fprintf(&h.out, "> %s\n", strings.ReplaceAll(abbreviate(bot.Summarize(ev)), "\n", "\n  "))
	wasHuman := h.s.Profile.Mode == bot.ModeHuman
	res, err := h.r.Respond(ctx, h.s, ev)
	if err != nil {
		h.t.Fatalf("event %s (%s): %v", ev.ID, bot.Summarize(ev), err)
	}
	h.s.Profile.Desk.Follow(ev, wasHuman, h.s, h.now) // as the engine does
	for _, r := range res.Replies {
		fmt.Fprintf(&h.out, "< %s\n", strings.ReplaceAll(r.Text, "\n", "\n  "))
		for i, c := range r.Choices {
			fmt.Fprintf(&h.out, "    %d. %s → %s\n", i+1, c.Label, c.Payload)
		}
		if r.Request != bot.RequestNone {
			fmt.Fprintf(&h.out, "    [asks for %s]\n", r.Request)
		}
		if h.check && (missingKey.MatchString(r.Text) || strings.Contains(r.Text, "<no value>")) {
			h.t.Errorf("event %s: reply has a missing text: %q", ev.ID, r.Text)
		}
	}
	if h.check && len(res.Replies) == 0 && !res.Silent && ev.Kind != bot.EventUnfollow {
		h.t.Errorf("event %s (%s): no reply: a dead end", ev.ID, bot.Summarize(ev))
	}
	if res.Submission != nil {
		b, err := json.MarshalIndent(res.Submission, "  ", "  ")
		if err != nil {
			h.t.Fatal(err)
		}
		fmt.Fprintf(&h.out, "  = submission %s\n", b)
	}
	if res.Silent {
		h.out.WriteString("  = silent (kept for operators)\n")
	}
	if res.Forget {
		h.out.WriteString("  = forget: the store erases the conversation\n")
		h.reset() // the next event finds no session: New again
	}
	fmt.Fprintf(&h.out, "  · %s\n\n", h.stateLine())
	if !res.Forget {
		h.s.New = false
	}
}

// Inputs longer than abbreviateOver characters show only their start and their length
// in the transcript, so that a golden file stays readable.
const (
	abbreviateOver = 200
	abbreviateKeep = 60
)

// abbreviate shortens a long input for the transcript: "Đường Đường…" (4000 characters).
func abbreviate(s string) string {
	r := []rune(s)
	if len(r) <= abbreviateOver {
		return s
	}
	return fmt.Sprintf("%s… (%d characters)", string(r[:abbreviateKeep]), len(r))
}

// stateLine is the session's shape after an event, for the reader of the transcript.
func (h *harness) stateLine() string {
	s := h.s
	where := "menu"
	if s.State.Flow != "" {
		where = s.State.Flow + "/" + s.State.Step
	}
	parts := []string{where, "lang=" + s.Profile.Lang}
	if s.State.Pending != "" {
		parts = append(parts, "pending="+s.State.Pending)
	}
	if s.State.Misses > 0 {
		parts = append(parts, "misses="+strconv.Itoa(s.State.Misses))
	}
	if s.State.Editing {
		parts = append(parts, "editing")
	}
	if s.Profile.Mode != bot.ModeBot {
		parts = append(parts, "mode="+string(s.Profile.Mode))
	}
	if s.Profile.OptedOut {
		parts = append(parts, "opted-out")
	}
	if s.Profile.Unreachable {
		parts = append(parts, "unreachable")
	}
	if s.Profile.Consent != nil {
		parts = append(parts, "consent="+s.Profile.Consent.NoticeVersion)
	}
	if n := len(s.Profile.Submissions); n > 0 {
		parts = append(parts, "submissions="+strconv.Itoa(n))
	}
	if len(s.Profile.Programs) > 0 {
		// The flows follow a program only on "Remind me"; the engine adds those of the
		// drafts and submissions after the turn (bot.followPrograms).
		parts = append(parts, "follows="+strings.Join(s.Profile.Programs, ","))
	}
	return strings.Join(parts, " ")
}

// golden compares got with testdata/name.golden, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./flows -run %s -update to write it)", err, t.Name())
	}
	if string(want) != got {
		t.Errorf("transcript differs from %s (run with -update after checking the change):\n%s", path, diff(string(want), got))
	}
}

// diff shows the first lines that differ, enough to see what changed.
func diff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < len(w) || i < len(g); i++ {
		var a, b string
		if i < len(w) {
			a = w[i]
		}
		if i < len(g) {
			b = g[i]
		}
		if a != b {
			return fmt.Sprintf("line %d:\n  want: %s\n  got:  %s", i+1, a, b)
		}
	}
	return ""
}
