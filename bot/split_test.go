package bot_test

import (
	"slices"
	"testing"

	"github.com/sangkien/sangkien/bot"
)

func TestSplitText(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		limit int
		want  []string
	}{
		{"fits", "Xin chào", 20, []string{"Xin chào"}},
		{"empty", "", 20, []string{""}},
		{"paragraph first", "Một hai.\n\nBa bốn. Năm sáu.", 20, []string{"Một hai.", "Ba bốn. Năm sáu."}},
		{"then sentence", "Một hai ba. Bốn năm sáu bảy.", 20, []string{"Một hai ba.", "Bốn năm sáu bảy."}},
		{"then line", "one\ntwo three", 9, []string{"one", "two three"}},
		{"then word", "một hai ba bốn năm sáu bảy tám", 12, []string{"một hai ba", "bốn năm sáu", "bảy tám"}},
		{"then hard", "abcdefghijklmnop", 6, []string{"abcdef", "ghijkl", "mnop"}},
		{"emoji count twice", "😀😀😀😀", 4, []string{"😀😀", "😀😀"}},
		{"leading spaces cut hard", "      abcdefgh", 4, []string{"    ", "abcd", "efgh"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := bot.SplitText(tt.in, tt.limit); !slices.Equal(got, tt.want) {
				t.Errorf("SplitText(%q, %d) = %q, want %q", tt.in, tt.limit, got, tt.want)
			}
		})
	}
	if n := bot.UTF16Len("Việt 😀"); n != 7 {
		t.Errorf("UTF16Len = %d, want 7", n)
	}
}
