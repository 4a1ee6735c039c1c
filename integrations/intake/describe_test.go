package intake_test

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/sangkien/sangkien/bot"
	"github.com/sangkien/sangkien/integrations/intake"
)

func TestDescribe(t *testing.T) {
	tests := []struct {
		name string
		sub  bot.Submission
		want string
	}{
		{"initiative vi", bot.Submission{Lang: "vi", Proposal: bot.Proposal{Title: "Trồng cây", Description: "Trồng 200 cây sấu.", Benefit: "Bóng mát"}},
			"Trồng cây\n\nTrồng 200 cây sấu.\n\nLợi ích: Bóng mát"},
		{"initiative en", bot.Submission{Lang: "en", Proposal: bot.Proposal{Title: "Trees", Description: "Plant 200 trees.", Benefit: "Shade"}},
			"Trees\n\nPlant 200 trees.\n\nBenefit: Shade"},
		{"unknown language reads vi", bot.Submission{Lang: "fr", Proposal: bot.Proposal{Title: "T", Benefit: "B"}}, "T\n\nLợi ích: B"},
		{"blank parts skipped", bot.Submission{Lang: "vi", Proposal: bot.Proposal{Title: " T ", Description: "  \n", Benefit: ""}}, "T"},
		{"feedback", bot.Submission{Lang: "vi", Proposal: bot.Proposal{Kind: bot.KindFeedback, Comment: "Trả lời nhanh.", Rating: 4}},
			"Trả lời nhanh.\n\nĐánh giá: 4/5"},
		{"feedback en without comment", bot.Submission{Lang: "en", Proposal: bot.Proposal{Kind: bot.KindFeedback, Rating: 5}}, "Rating: 5/5"},
		{"nothing but a reference", bot.Submission{Reference: "GY-2026-000009"}, "GY-2026-000009"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := intake.Describe(tt.sub); got != tt.want {
				t.Errorf("Describe = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestDescribeLimit(t *testing.T) {
	words := strings.Repeat("Đường phố xanh sạch đẹp. ", 300) // 7,500 characters
	tests := []struct {
		name     string
		sub      bot.Submission
		full     string // the composed text before the cut
		wantCut  bool
		midWord  bool
		wantRune int // exact length when > 0
	}{
		{"short kept", bot.Submission{Proposal: bot.Proposal{Title: "T", Description: "D"}}, "T\n\nD", false, false, 0},
		{"exactly the limit kept", bot.Submission{Proposal: bot.Proposal{Description: strings.Repeat("ă", 4000)}}, strings.Repeat("ă", 4000), false, false, 4000},
		{"long cut at a word", bot.Submission{Proposal: bot.Proposal{Title: "Tiêu đề", Description: words, Benefit: "lớn"}},
			"Tiêu đề\n\n" + strings.TrimSpace(words) + "\n\nLợi ích: lớn", true, false, 0},
		{"one long word cut mid-word", bot.Submission{Proposal: bot.Proposal{Description: strings.Repeat("ư", 4500)}}, strings.Repeat("ư", 4500), true, true, 4000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			full := tt.full
			got := intake.Describe(tt.sub)
			n := utf8.RuneCountInString(got)
			if n > intake.MaxDescription {
				t.Fatalf("%d characters, limit %d", n, intake.MaxDescription)
			}
			if tt.wantRune > 0 && n != tt.wantRune {
				t.Errorf("%d characters, want %d", n, tt.wantRune)
			}
			if !tt.wantCut {
				if got != full {
					t.Errorf("text changed: %q", got)
				}
				return
			}
			kept, ok := strings.CutSuffix(got, "…")
			if !ok || !strings.HasPrefix(full, kept) {
				t.Fatalf("not a prefix of the text ending in …: %q", got[len(got)-40:])
			}
			next, _ := utf8.DecodeRuneInString(full[len(kept):])
			if !tt.midWord && !unicode.IsSpace(next) && !unicode.IsPunct(next) {
				t.Errorf("cut inside a word: …%q|%q", kept[len(kept)-20:], next)
			}
			if n < intake.MaxDescription-100 && !tt.midWord {
				t.Errorf("cut too early: %d characters", n)
			}
		})
	}
}

func TestSplitName(t *testing.T) {
	tests := []struct {
		full, lang  string
		first, last string
	}{
		{"Nguyễn Thị Lan", "vi", "Thị Lan", "Nguyễn"},
		{"Trần Văn Minh Quân", "vi", "Văn Minh Quân", "Trần"},
		{"  Lê   Hoa ", "vi", "Hoa", "Lê"},
		{"Lan", "vi", "Lan", ""},
		{"", "vi", "", ""},
		{"Nguyễn Thị Lan", "en", "Thị Lan", "Nguyễn"},     // Vietnamese order, recognised in English chats
		{"nguyễn thị lan", "en", "thị lan", "nguyễn"},     // whatever the case
		{"Nguye\u0302\u0303n Lan", "en", "Lan", "Nguyễn"}, // decomposed (NFD) accents
		{"John Smith", "en", "John", "Smith"},
		{"Mary Ann Jones", "en", "Mary Ann", "Jones"},
		{"John Smith", "vi", "Smith", "John"}, // a Vietnamese chat is read in Vietnamese order
	}
	for _, tt := range tests {
		t.Run(tt.lang+"/"+tt.full, func(t *testing.T) {
			first, last := intake.SplitName(tt.full, tt.lang)
			if first != tt.first || last != tt.last {
				t.Errorf("SplitName = %q, %q; want %q, %q", first, last, tt.first, tt.last)
			}
		})
	}
}
