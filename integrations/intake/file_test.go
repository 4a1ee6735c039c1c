package intake_test

import (
	"bufio"
	"bytes"
	"context"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	json "github.com/go-json-experiment/json/v1"

	"github.com/sangkien/sangkien/bot"
	"github.com/sangkien/sangkien/integrations/intake"
)

func TestFileSinkDeliver(t *testing.T) {
	tests := []struct {
		name string
		// steps deliver submission ids in order; "|reopen" closes the sink and opens a new one.
		steps []string
		want  []string
	}{
		{"append", []string{"a", "b"}, []string{"a", "b"}},
		{"duplicate id skipped", []string{"a", "a", "b", "a"}, []string{"a", "b"}},
		{"reopen after restart still skips", []string{"a", "|reopen", "a", "b", "|reopen", "b"}, []string{"a", "b"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "sub", "dir", "submissions.jsonl")
			s := openSink(t, path)
			for _, id := range tt.steps {
				if id == "|reopen" {
					if err := s.Close(); err != nil {
						t.Fatal(err)
					}
					s = openSink(t, path)
					continue
				}
				deliver(t, s, id)
			}
			assertIDs(t, path, tt.want)
		})
	}
}

func TestFileSinkRecord(t *testing.T) {
	path := filepath.Join(t.TempDir(), "data", "submissions.jsonl")
	s := openSink(t, path)
	sub := submission("s-1")
	r, err := s.Deliver(context.Background(), sub)
	if err != nil {
		t.Fatal(err)
	}
	if r.IntakeID != "s-1" || r.Status != "received" {
		t.Errorf("receipt = %+v", r)
	}
	lines := readLines(t, path)
	if len(lines) != 1 {
		t.Fatalf("lines = %d, want 1", len(lines))
	}
	var got struct {
		Schema string `json:"schema"`
		bot.Submission
	}
	if err := json.Unmarshal([]byte(lines[0]), &got); err != nil {
		t.Fatal(err)
	}
	if got.Schema != intake.SubmissionSchema {
		t.Errorf("schema = %q", got.Schema)
	}
	if got.Reference != sub.Reference || got.Contact.Phone != sub.Contact.Phone || got.Title != sub.Title ||
		!got.SubmittedAt.Equal(sub.SubmittedAt) || len(got.Attachments) != 1 {
		t.Errorf("record = %+v, want %+v", got.Submission, sub)
	}
	for _, p := range []struct {
		path string
		mode os.FileMode
	}{{path, 0o600}, {filepath.Dir(path), 0o700}} {
		info, err := os.Stat(p.path)
		if err != nil {
			t.Fatal(err)
		}
		if got := info.Mode().Perm(); got != p.mode {
			t.Errorf("%s mode = %v, want %v", p.path, got, p.mode)
		}
	}
}

// Two sinks on one file (two gateway processes) deliver overlapping submissions at once;
// each id lands once.
func TestFileSinkShared(t *testing.T) {
	path := filepath.Join(t.TempDir(), "submissions.jsonl")
	sinks := []*intake.FileSink{openSink(t, path), openSink(t, path)}
	var ids []string
	for i := range 40 {
		ids = append(ids, "s-"+string(rune('a'+i%26))+string(rune('a'+i/26)))
	}
	var wg sync.WaitGroup
	for _, s := range sinks {
		for _, id := range ids {
			wg.Go(func() {
				if _, err := s.Deliver(context.Background(), submission(id)); err != nil {
					t.Errorf("deliver %s: %v", id, err)
				}
			})
		}
	}
	wg.Wait()
	got := fileIDs(t, path)
	if len(got) != len(ids) {
		t.Fatalf("lines = %d, want %d", len(got), len(ids))
	}
	seen := map[string]int{}
	for _, id := range got {
		seen[id]++
	}
	for _, id := range ids {
		if seen[id] != 1 {
			t.Errorf("%s written %d times", id, seen[id])
		}
	}
}

// A crash in the middle of a write leaves a line without its newline: the next sink to
// look cuts it off (and says so), keeps the lines before it, and writes the
// redelivered submission whole.
func TestFileSinkTornLine(t *testing.T) {
	tests := []struct {
		name string
		torn string
	}{
		{"half a record", `{"schema":"sangkien.submission/v1","id":"b","refer`},
		{"whole record without newline", `{"schema":"sangkien.submission/v1","id":"b"}`},
		{"one byte", `{`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "submissions.jsonl")
			live := openSink(t, path)
			deliver(t, live, "a")
			appendRaw(t, path, tt.torn)

			var logs bytes.Buffer
			s, err := intake.OpenFileSink(path, slog.New(slog.NewTextHandler(&logs, nil)))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = s.Close() })
			if !strings.Contains(logs.String(), "torn last line") {
				t.Errorf("no log of the torn line; logs:\n%s", logs.String())
			}
			deliver(t, s, "b")
			assertIDs(t, path, []string{"a", "b"})

			// A sink that was open before the crash sees the repaired file too.
			deliver(t, live, "b")
			deliver(t, live, "c")
			assertIDs(t, path, []string{"a", "b", "c"})
		})
	}
}

// A sink open while another process appends a torn line repairs it on its next write.
func TestFileSinkTornLineWhileOpen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "submissions.jsonl")
	s := openSink(t, path)
	deliver(t, s, "a")
	appendRaw(t, path, `{"schema":"sangkien.submission/v1","id":"x"`)
	deliver(t, s, "b")
	assertIDs(t, path, []string{"a", "b"})
}

func TestFileSinkRefuses(t *testing.T) {
	path := filepath.Join(t.TempDir(), "submissions.jsonl")
	s := openSink(t, path)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name string
		ctx  context.Context
		sub  bot.Submission
	}{
		{"no id", context.Background(), bot.Submission{Reference: "SK-2026-000001"}},
		{"cancelled", ctx, submission("a")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := s.Deliver(tt.ctx, tt.sub); err == nil {
				t.Error("Deliver succeeded, want an error")
			}
		})
	}
	assertIDs(t, path, nil)
}

func openSink(t *testing.T, path string) *intake.FileSink {
	t.Helper()
	s, err := intake.OpenFileSink(path, nil)
	if err != nil {
		t.Fatalf("open sink: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func deliver(t *testing.T, s *intake.FileSink, id string) {
	t.Helper()
	if _, err := s.Deliver(context.Background(), submission(id)); err != nil {
		t.Fatalf("deliver %s: %v", id, err)
	}
}

func submission(id string) bot.Submission {
	return bot.Submission{
		ID:        id,
		Reference: "SK-2026-000123",
		Proposal: bot.Proposal{
			Kind:        bot.KindInitiative,
			ProgramID:   "thu-do-xanh-2027",
			Field:       "cay-xanh",
			Title:       "Trồng cây trên phố Kim Mã",
			Description: strings.Repeat("Mô tả sáng kiến. ", 5),
			Attachments: []bot.Attachment{{Kind: bot.Photo, Ref: "tg-file-1", MIME: "image/jpeg", Size: 1024}},
		},
		Contact: bot.SubmitterContact{Name: "Nguyễn Văn A", Phone: "+84912345678"},
		Conversation: bot.ConversationRef{
			Channel: bot.Terminal, ID: "local",
		},
		Lang: "vi",
		// Taken on a host whose clock runs in UTC: 09:30 in Hanoi, as sent.
		SubmittedAt: time.Date(2026, 11, 28, 2, 30, 0, 0, time.UTC),
	}
}

func appendRaw(t *testing.T, path, s string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(s); err != nil {
		t.Fatal(err)
	}
}

func readLines(t *testing.T, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(data) > 0 && data[len(data)-1] != '\n' {
		t.Errorf("file does not end with a newline: %q", data)
	}
	var lines []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	return lines
}

func fileIDs(t *testing.T, path string) []string {
	t.Helper()
	var ids []string
	for _, l := range readLines(t, path) {
		var r struct {
			Schema string `json:"schema"`
			ID     string `json:"id"`
		}
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			t.Fatalf("line %q: %v", l, err)
		}
		if r.Schema != intake.SubmissionSchema {
			t.Errorf("line %q: schema %q", l, r.Schema)
		}
		ids = append(ids, r.ID)
	}
	return ids
}

func assertIDs(t *testing.T, path string, want []string) {
	t.Helper()
	got := fileIDs(t, path)
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("ids in file = %v, want %v", got, want)
	}
}

func TestFileSinkRemembersItsLastReferences(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.jsonl")
	s, err := intake.OpenFileSink(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i, ref := range []string{"SK-2026-000007", "SK-2026-000003", "GY-2026-000002", "SK-2027-000001", "bad"} {
		sub := bot.Submission{ID: "id-" + strconv.Itoa(i), Reference: ref, Proposal: bot.Proposal{Kind: bot.KindInitiative}}
		if _, err := s.Deliver(context.Background(), sub); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	again, err := intake.OpenFileSink(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	want := map[string]int64{"SK-2026": 7, "GY-2026": 2, "SK-2027": 1}
	if got := again.LastReferences(); !maps.Equal(got, want) {
		t.Errorf("LastReferences = %v, want %v", got, want)
	}
}
