package intake_test

import (
	"testing"

	"github.com/sangkien/sangkien/bot"
	"github.com/sangkien/sangkien/integrations/intake"
)

func TestPlainText(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"bold", "<b>Budget</b>", "Budget"},
		{"Vietnamese and emoji kept", "<p>Ngân sách <i>dự kiến</i> 🌳🙏</p>", "Ngân sách dự kiến 🌳🙏"},
		{"line breaks kept", "Dòng 1\nDòng 2\r\n\r\nĐoạn 2", "Dòng 1\nDòng 2\n\nĐoạn 2"},
		{"br and paragraphs become breaks", "Một<br>Hai<br/>Ba</p><p>Bốn", "Một\nHai\nBa\nBốn"},
		{"script and style dropped whole", "Xin chào<script>alert('x')</script><style>b{color:red}</style>!", "Xin chào!"},
		{"comment dropped", "A<!-- hidden -->B", "AB"},
		{"entities decoded", "Tom &amp; Jerry &quot;vui&quot;", `Tom & Jerry "vui"`},
		{"markup spelled as entities dropped too", "&lt;b&gt;Budget&lt;/b&gt;", "Budget"},
		{"link keeps its text", `<a href="https://x.example">trang</a>`, "trang"},
		{"code fence and marks", "Xem:\n```go\nfmt.Println(1)\n```\nhết `x`", "Xem:\nfmt.Println(1)\nhết x"},
		{"comparisons are text", "a < b và c > d, tim <3", "a < b và c > d, tim <3"},
		{"blank runs shortened", "A\n\n\n\n\nB  ", "A\n\nB"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := intake.PlainText(tt.in); got != tt.want {
				t.Errorf("PlainText(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// The description a citizen wrote in HTML reaches the intake as text.
func TestDescribePlainText(t *testing.T) {
	sub := bot.Submission{Lang: "vi", Proposal: bot.Proposal{
		Title: "<b>Budget</b>", Description: "Dòng 1<br>Dòng 2 🌳", Benefit: "<i>Mát</i>",
	}}
	if got, want := intake.Describe(sub), "Budget\n\nDòng 1\nDòng 2 🌳\n\nLợi ích: Mát"; got != want {
		t.Errorf("Describe = %q, want %q", got, want)
	}
}
