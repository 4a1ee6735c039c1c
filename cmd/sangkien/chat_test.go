package main

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	json "github.com/go-json-experiment/json/v1"

	"github.com/sangkien/sangkien/bot"
)

// A citizen proposes an initiative from the first line to the reference code, in each
// language; the outbox worker running beside the chat writes it to the intake file once.
func TestChatProposesAnInitiative(t *testing.T) {
	const jpeg = "\xff\xd8\xff\xe0 not really a jpeg"
	photo := filepath.Join(t.TempDir(), "cay.jpg")
	if err := os.WriteFile(photo, []byte(jpeg), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		args     []string
		embedded bool
		script   []string
		want     bot.Submission
		wantOut  []string
	}{
		{
			name: "vietnamese",
			args: []string{"chat"},
			script: []string{
				"1",        // menu: propose an initiative
				"Đồng ý",   // privacy notice, by label
				"1",        // program
				"Cây xanh", // field, by label
				"Trồng cây xanh trên phố Kim Mã",
				"Đề xuất trồng thêm hàng cây bóng mát dọc hai bên phố Kim Mã,",
				"kết hợp bồn hoa và ghế đá cho người đi bộ nghỉ chân.",
				"Xong",
				"Giảm nắng nóng mùa hè, giảm bụi và tạo cảnh quan đẹp.",
				":location 21.0313 105.8183 Phố Kim Mã",
				"Bỏ qua", // attachments
				"Nguyễn Văn An",
				"0912 345 678",
				"an.nguyen@example.com",
				"Gửi sáng kiến",
			},
			want: bot.Submission{
				Proposal: bot.Proposal{
					Kind: bot.KindInitiative, ProgramID: "test-green", Field: "cay-xanh",
					Title:    "Trồng cây xanh trên phố Kim Mã",
					Benefit:  "Giảm nắng nóng mùa hè, giảm bụi và tạo cảnh quan đẹp.",
					Location: &bot.Location{Lat: 21.0313, Lon: 105.8183, Label: "Phố Kim Mã"},
				},
				Contact: bot.SubmitterContact{Name: "Nguyễn Văn An", Phone: "+84912345678", Email: "an.nguyen@example.com"},
				Lang:    "vi",
			},
			wantOut: []string{"Đồng ý", "  1. ", "Đã ghi 1 hồ sơ vào"},
		},
		{
			name: "english",
			args: []string{"chat", "--lang", "en"},
			script: []string{
				"/start",
				"Propose an initiative",
				"1", // agree
				"2", // program
				// one field only: the question is skipped
				"Online queue numbers for ward offices",
				"Residents wait for hours at ward offices to file paperwork; an online queue with SMS alerts lets them come only when it is their turn.",
				"Done",
				"Shorter waits and fewer crowds at ward offices every day.",
				"Ba Dinh ward",
				":photo " + photo,
				"Done",
				":contact Jane Doe 0987 654 321",
				"Skip",
				"Submit initiative",
			},
			want: bot.Submission{
				Proposal: bot.Proposal{
					Kind: bot.KindInitiative, ProgramID: "test-digital", Field: "dich-vu-cong",
					Title:        "Online queue numbers for ward offices",
					Benefit:      "Shorter waits and fewer crowds at ward offices every day.",
					LocationText: "Ba Dinh ward",
					Attachments:  []bot.Attachment{{Kind: bot.Photo, Ref: "file:" + photo, MIME: "image/jpeg", Size: int64(len(jpeg)), Name: "cay.jpg"}},
				},
				Contact: bot.SubmitterContact{Name: "Jane Doe", Phone: "+84987654321"},
				Lang:    "en",
			},
			wantOut: []string{"Agree", "  1. ", "1 submission(s) written to"},
		},
		{
			name:     "english on the embedded redis",
			args:     []string{"chat", "--lang", "en"},
			embedded: true,
			script: []string{
				"1", "1", "1", "2",
				"Sorting bins at every bus stop",
				"Put three-way sorting bins at bus stops along Nguyen Trai so that riders sort their waste on the way.",
				"Done",
				"Less mixed waste and cleaner bus stops.",
				"Skip", "Skip",
				"Jane Doe", "+84 912 345 678", "Skip",
				"Submit initiative",
			},
			want: bot.Submission{
				Proposal: bot.Proposal{
					Kind: bot.KindInitiative, ProgramID: "test-green", Field: "rac-thai",
					Title:   "Sorting bins at every bus stop",
					Benefit: "Less mixed waste and cleaner bus stops.",
				},
				Contact: bot.SubmitterContact{Name: "Jane Doe", Phone: "+84912345678"},
				Lang:    "en",
			},
			wantOut: []string{"1 submission(s) written to"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newTestEnv(t).set("PROGRAMS_FILE", filepath.Join("testdata", "programs.yaml"))
			if tt.embedded {
				env = env.set("REDIS_URL", "")
			}
			args := append(tt.args, "--id", "test-"+strings.ReplaceAll(tt.name, " ", "-"))
			out := runChat(t, env, args, tt.script)

			ref := regexp.MustCompile(`SK-\d{4}-\d{6}`).FindString(out)
			if ref == "" {
				t.Fatalf("no reference code in the chat:\n%s", out)
			}
			for _, w := range tt.wantOut { // the end line says, in the citizen's language, where the submission went
				if !strings.Contains(out, w) {
					t.Errorf("chat output lacks %q:\n%s", w, out)
				}
			}
			got := readSubmissions(t, env["INTAKE_FILE"])
			if len(got) != 1 {
				t.Fatalf("intake file holds %d submissions, want 1", len(got))
			}
			checkSubmission(t, got[0], tt.want, ref, args[len(args)-1])

			if tt.embedded {
				// The embedded Redis forgets its counters; the next run continues after
				// the references already in the file instead of giving one twice.
				out := runChat(t, env, args, tt.script)
				refs := regexp.MustCompile(`SK-\d{4}-\d{6}`).FindAllString(out, -1)
				if len(refs) == 0 || refs[len(refs)-1] == ref {
					t.Errorf("second run on a fresh embedded Redis gave %v, after %s", refs, ref)
				}
				if n := len(readSubmissions(t, env["INTAKE_FILE"])); n != 2 {
					t.Errorf("after a second proposal the intake file holds %d submissions, want 2", n)
				}
				return
			}
			// Coming back to the same conversation and Redis delivers nothing twice.
			runChat(t, env, args, []string{":quit"})
			if n := len(readSubmissions(t, env["INTAKE_FILE"])); n != 1 {
				t.Errorf("after a second chat the intake file holds %d submissions, want 1", n)
			}
		})
	}
}

// runChat runs `sangkien chat` with the script as its input and returns what it printed.
func runChat(t *testing.T, env testEnv, args, script []string) string {
	t.Helper()
	var out, errOut bytes.Buffer
	stdin := strings.NewReader(strings.Join(script, "\n") + "\n")
	if err := run(testContext(t), args, env.get, stdin, &out, &errOut); err != nil {
		t.Fatalf("chat: %v\nstderr:\n%s", err, errOut.String())
	}
	return out.String()
}

type record struct {
	Schema string `json:"schema"`
	bot.Submission
}

func readSubmissions(t *testing.T, path string) []record {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var recs []record
	for _, line := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
		if line == "" {
			continue
		}
		var r record
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
		recs = append(recs, r)
	}
	return recs
}

// checkSubmission compares the answers; ids and times are checked for presence only.
func checkSubmission(t *testing.T, got record, want bot.Submission, ref, convID string) {
	t.Helper()
	if got.Schema != "sangkien.submission/v1" {
		t.Errorf("schema = %q", got.Schema)
	}
	if got.ID == "" || got.ConsentAt.IsZero() || got.SubmittedAt.IsZero() || got.NoticeVersion == "" {
		t.Errorf("id, consent or submitted time missing: %+v", got.Submission)
	}
	if got.Reference != ref {
		t.Errorf("reference = %q, the chat said %q", got.Reference, ref)
	}
	if got.Description == "" {
		t.Error("description is empty")
	}
	want.ID, want.Reference, want.Description = got.ID, got.Reference, got.Description
	want.ConsentAt, want.SubmittedAt, want.NoticeVersion = got.ConsentAt, got.SubmittedAt, got.NoticeVersion
	want.Conversation = bot.ConversationRef{Channel: bot.Terminal, ID: convID}
	gj, _ := json.Marshal(got.Submission)
	wj, _ := json.Marshal(want)
	if !bytes.Equal(gj, wj) {
		t.Errorf("submission =\n  %s\nwant\n  %s", gj, wj)
	}
}

// A status change that came while the citizen was away from the terminal is shown when
// they come back with the same --id, once.
func TestChatShowsNewsFromWhileAway(t *testing.T) {
	env := newTestEnv(t).set("PROGRAMS_FILE", filepath.Join("testdata", "programs.yaml"))
	args := []string{"chat", "--lang", "en", "--id", "news-while-away"}
	runChat(t, env, args, []string{
		"1", "1", "1", "2",
		"Sorting bins at every bus stop",
		"Put three-way sorting bins at bus stops along Nguyen Trai so that riders sort their waste on the way.",
		"Done", "Less mixed waste and cleaner bus stops.", "Skip", "Skip",
		"Jane Doe", "+84 912 345 678", "Skip", "Submit initiative",
	})
	subs := readSubmissions(t, env["INTAKE_FILE"])
	if len(subs) != 1 {
		t.Fatalf("intake file holds %d submissions, want 1", len(subs))
	}
	cfg, err := loadConfig(env.get)
	if err != nil {
		t.Fatal(err)
	}
	g, err := newGateway(cfg, slog.New(slog.DiscardHandler), bot.Terminal)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	sub := subs[0].Submission
	if _, err := g.engine.Handle(context.Background(), bot.Event{
		ID: "status-1", Conversation: sub.Conversation, Kind: bot.EventStatus,
		Status: &bot.StatusChange{SubmissionID: sub.ID, Reference: sub.Reference, Status: "accepted",
			Message: bot.Text{VI: "Sẽ lắp thùng rác trong quý I.", EN: "Bins go up in Q1."}},
	}); err != nil {
		t.Fatal(err)
	}
	back := runChat(t, env, args, []string{":quit"})
	if !strings.Contains(back, "Bins go up in Q1.") || !strings.Contains(back, sub.Reference) {
		t.Errorf("coming back, the chat did not show the status change:\n%s", back)
	}
	if again := runChat(t, env, args, []string{":quit"}); strings.Contains(again, "Bins go up in Q1.") {
		t.Errorf("the status change was shown twice:\n%s", again)
	}
}
