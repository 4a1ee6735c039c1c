package bot_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/sangkien/sangkien/bot"
)

func TestCannedValidate(t *testing.T) {
	ok := func() bot.CannedAnswer {
		return bot.CannedAnswer{
			ID:    "giay-to-can-mang",
			Title: "Giấy tờ cần mang",
			Text:  map[string]string{"vi": "Chào {name}, anh/chị vui lòng mang CCCD.", "en": "Hello {name}, please bring your ID card."},
		}
	}
	tests := []struct {
		name   string
		change func(*bot.CannedAnswer)
		valid  bool
	}{
		{"complete", func(*bot.CannedAnswer) {}, true},
		{"vi only", func(c *bot.CannedAnswer) { delete(c.Text, "en") }, true},
		{"empty en", func(c *bot.CannedAnswer) { c.Text["en"] = "" }, true},
		{"id of 40", func(c *bot.CannedAnswer) { c.ID = strings.Repeat("a", 40) }, true},
		{"id digits", func(c *bot.CannedAnswer) { c.ID = "2026-le-tet" }, true},
		{"title of 80 with diacritics", func(c *bot.CannedAnswer) { c.Title = strings.Repeat("Đ", 80) }, true},
		{"vi of 2000 with diacritics", func(c *bot.CannedAnswer) { c.Text["vi"] = strings.Repeat("ữ", 2000) }, true},
		{"no id", func(c *bot.CannedAnswer) { c.ID = "" }, false},
		{"id of 41", func(c *bot.CannedAnswer) { c.ID = strings.Repeat("a", 41) }, false},
		{"id upper case", func(c *bot.CannedAnswer) { c.ID = "Giay-to" }, false},
		{"id with space", func(c *bot.CannedAnswer) { c.ID = "giay to" }, false},
		{"id with diacritics", func(c *bot.CannedAnswer) { c.ID = "giấy-tờ" }, false},
		{"id with underscore", func(c *bot.CannedAnswer) { c.ID = "giay_to" }, false},
		{"no title", func(c *bot.CannedAnswer) { c.Title = "" }, false},
		{"blank title", func(c *bot.CannedAnswer) { c.Title = "   " }, false},
		{"title of 81", func(c *bot.CannedAnswer) { c.Title = strings.Repeat("Đ", 81) }, false},
		{"no text", func(c *bot.CannedAnswer) { c.Text = nil }, false},
		{"en only", func(c *bot.CannedAnswer) { delete(c.Text, "vi") }, false},
		{"empty vi", func(c *bot.CannedAnswer) { c.Text["vi"] = "" }, false},
		{"blank vi", func(c *bot.CannedAnswer) { c.Text["vi"] = " \n " }, false},
		{"vi of 2001", func(c *bot.CannedAnswer) { c.Text["vi"] = strings.Repeat("ữ", 2001) }, false},
		{"en of 2001", func(c *bot.CannedAnswer) { c.Text["en"] = strings.Repeat("e", 2001) }, false},
		{"another language", func(c *bot.CannedAnswer) { c.Text["fr"] = "Bonjour" }, false},
		{"bad UTF-8", func(c *bot.CannedAnswer) { c.Text["vi"] = "Ch\xe0o" }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := ok()
			tt.change(&c)
			err := c.Validate()
			if tt.valid && err != nil {
				t.Errorf("Validate = %v, want nil", err)
			}
			if !tt.valid && !errors.Is(err, bot.ErrInvalidCanned) {
				t.Errorf("Validate = %v, want ErrInvalidCanned", err)
			}
		})
	}
}

func TestCannedRender(t *testing.T) {
	both := bot.CannedAnswer{Text: map[string]string{
		"vi": "Chào {name}, hồ sơ {reference} của anh/chị đã được tiếp nhận.",
		"en": "Hello {name}, your file {reference} was received.",
	}}
	viOnly := bot.CannedAnswer{Text: map[string]string{"vi": "Xin cảm ơn {name}!"}}
	emptyEn := bot.CannedAnswer{Text: map[string]string{"vi": "Đã chuyển cán bộ.", "en": ""}}
	vars := map[string]string{"name": "Nguyễn Thị Hằng", "reference": "HN-2026-000123"}

	tests := []struct {
		name string
		c    bot.CannedAnswer
		lang string
		vars map[string]string
		want string
	}{
		{"vi", both, "vi", vars, "Chào Nguyễn Thị Hằng, hồ sơ HN-2026-000123 của anh/chị đã được tiếp nhận."},
		{"en", both, "en", vars, "Hello Nguyễn Thị Hằng, your file HN-2026-000123 was received."},
		{"en region and case", both, "EN-us", vars, "Hello Nguyễn Thị Hằng, your file HN-2026-000123 was received."},
		{"en falls back to vi", viOnly, "en", vars, "Xin cảm ơn Nguyễn Thị Hằng!"},
		{"empty en falls back to vi", emptyEn, "en", nil, "Đã chuyển cán bộ."},
		{"unknown language falls back to vi", both, "fr", vars, "Chào Nguyễn Thị Hằng, hồ sơ HN-2026-000123 của anh/chị đã được tiếp nhận."},
		{"no language", viOnly, "", vars, "Xin cảm ơn Nguyễn Thị Hằng!"},
		{"no vars: placeholders stay", both, "vi", nil, "Chào {name}, hồ sơ {reference} của anh/chị đã được tiếp nhận."},
		{"known but empty", both, "en", map[string]string{"name": "", "reference": "R1"}, "Hello , your file R1 was received."},
		{"unknown placeholder stays",
			bot.CannedAnswer{Text: map[string]string{"vi": "Hẹn {ngay} gặp {name}."}}, "vi", vars, "Hẹn {ngay} gặp Nguyễn Thị Hằng."},
		{"braces around a placeholder",
			bot.CannedAnswer{Text: map[string]string{"vi": "{{name}} {} {name"}}, "vi", vars, "{Nguyễn Thị Hằng} {} {name"},
		{"a value is not expanded again",
			bot.CannedAnswer{Text: map[string]string{"vi": "{name} / {reference}"}}, "vi", map[string]string{"name": "{reference}", "reference": "R1"}, "{reference} / R1"},
		{"any key in vars", bot.CannedAnswer{Text: map[string]string{"vi": "Phòng {phong}"}}, "vi", map[string]string{"phong": "Một cửa"}, "Phòng Một cửa"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.c.Render(tt.lang, tt.vars); got != tt.want {
				t.Errorf("Render(%q) = %q, want %q", tt.lang, got, tt.want)
			}
		})
	}
	if len(bot.CannedPlaceholders) != 2 || bot.CannedPlaceholders[0] != "name" || bot.CannedPlaceholders[1] != "reference" {
		t.Errorf("CannedPlaceholders = %q", bot.CannedPlaceholders)
	}
}
