package flows

import (
	"testing"

	"github.com/sangkien/sangkien/bot"
)

func TestNormalizePhone(t *testing.T) {
	tests := []struct {
		in   string
		want string // "" when refused
	}{
		{"0912345678", "+84912345678"},
		{"0912 345 678", "+84912345678"},
		{"091.234.5678", "+84912345678"},
		{"091-234-5678", "+84912345678"},
		{"+84 912 345 678", "+84912345678"},
		{"+84912345678", "+84912345678"},
		{"84912345678", "+84912345678"},
		{"(+84)912-345-678", "+84912345678"},
		{"+84 0912 345 678", "+84912345678"},
		{"0084 912 345 678", "+84912345678"},
		{"  0356789012 ", "+84356789012"},
		{"0523456789", "+84523456789"},
		{"0701234567", "+84701234567"},
		{"0812345678", "+84812345678"},
		{"0987654321", "+84987654321"},
		{"024 3825 1234", ""},               // Hanoi landline
		{"0212345678", ""},                  // 02x is fixed-line
		{"0112345678", ""},                  // no such prefix
		{"091234567", ""},                   // nine digits
		{"09123456789", ""},                 // eleven digits
		{"+1 415 555 010", ""},              // one digit short
		{"+1 212 736 5000", "+12127365000"}, // New York, any valid foreign number
		{"+44 7911 123456", "+447911123456"},
		{"+7 916 123-45-67", "+79161234567"},
		{"447911123456", "+447911123456"}, // a contact card's number, without the plus
		{"0044 7911 123456", "+447911123456"},
		{"+44 7911 12345", ""},   // one digit short
		{"+84 24 3825 1234", ""}, // a Hanoi landline, even with +84
		{"0912\u00a0345\u00a0678", "+84912345678"},
		{"0912\t345\t678", "+84912345678"},
		{"\u00a0+84\u202f912\u202f345\u202f678\u00a0", "+84912345678"},
		{"-0912345678", ""},
		{"0912345678-", "+84912345678"},
		{"+", ""},
		{"1234567", ""},
		{"+0912345678", ""},
		{"0912-345-67a", ""},
		{"0912++345678", ""},
		{"", ""},
		{"số của tôi", ""},
	}
	for _, tt := range tests {
		got, ok := normalizePhone(tt.in)
		if ok != (tt.want != "") || got != tt.want {
			t.Errorf("normalizePhone(%q) = %q, %v; want %q", tt.in, got, ok, tt.want)
		}
	}
}

func TestNormalizeEmail(t *testing.T) {
	tests := []struct{ in, want string }{
		{"lan.nguyen@example.vn", "lan.nguyen@example.vn"},
		{"Lan.Nguyen@Example.VN", "Lan.Nguyen@example.vn"},
		{"  minh+sk@hanoi.gov.vn ", "minh+sk@hanoi.gov.vn"},
		{"a@b.co", "a@b.co"},
		{"abc@", ""},
		{"@example.com", ""},
		{"abc", ""},
		{"abc@localhost", ""},
		{"abc@example.c", ""},
		{"abc@@example.com", ""},
		{"abc@example..com", ""},
		{"abc@-example.com", ""},
		{"Lan <lan@example.vn>", ""},
		{"lan @example.vn", ""},
		{"", ""},
	}
	for _, tt := range tests {
		got, ok := normalizeEmail(tt.in)
		if ok != (tt.want != "") || got != tt.want {
			t.Errorf("normalizeEmail(%q) = %q, %v; want %q", tt.in, got, ok, tt.want)
		}
	}
}

func TestFold(t *testing.T) {
	tests := []struct{ in, fold, lower string }{
		{"Hủy", "huy", "hủy"},
		{"HUỶ!", "huy", "huỷ"},
		{"  Quay LẠI! ", "quay lai", "quay lại"},
		{"Đăng ký nhận tin", "dang ky nhan tin", "đăng ký nhận tin"},
		{"ĐỒNG Ý", "dong y", "đồng ý"},
		{"xoá   dữ-liệu", "xoa du lieu", "xoá dữ liệu"},
		{"💡 Gửi sáng kiến", "gui sang kien", "gửi sáng kiến"},
		{"Tiếng Việt", "tieng viet", "tiếng việt"},
		{"1.", "1", "1"},
		{"?!", "", ""},
		{"", "", ""},
		// Decomposed input, as some keyboards send it.
		{"Hu\u0309y", "huy", "hủy"},
	}
	for _, tt := range tests {
		if got := fold(tt.in); got != tt.fold {
			t.Errorf("fold(%q) = %q, want %q", tt.in, got, tt.fold)
		}
		if got := lower(tt.in); got != tt.lower {
			t.Errorf("lower(%q) = %q, want %q", tt.in, got, tt.lower)
		}
	}
}

func TestMatchKeyword(t *testing.T) {
	tests := []struct {
		text   string
		atName bool
		cmd    string
		arg    string
	}{
		{"hủy", false, cmdCancel, ""},
		{"huỷ", false, cmdCancel, ""},
		{"huy", false, cmdCancel, ""},
		{"HUY!", false, cmdCancel, ""},
		{"Cancel", false, cmdCancel, ""},
		{"trợ giúp", false, cmdHelp, ""},
		{"tro giup", false, cmdHelp, ""},
		{"help", false, cmdHelp, ""},
		{"quay lại", false, cmdBack, ""},
		{"quay lai", false, cmdBack, ""},
		{"ngôn ngữ", false, cmdLanguage, ""},
		{"ngon ngu", false, cmdLanguage, ""},
		{"English", false, cmdLanguage, "en"},
		{"tieng viet", false, cmdLanguage, "vi"},
		{"gặp cán bộ", false, cmdHuman, ""},
		{"gap can bo", false, cmdHuman, ""},
		{"Gặp cán bộ!", false, cmdHuman, ""},
		{"cán bộ", false, cmdHuman, ""},
		{"can bo", false, cmdHuman, ""},
		{"can bo", true, cmdHuman, ""},
		{"gặp nhân viên", false, cmdHuman, ""},
		{"gap nhan vien", false, cmdHuman, ""},
		{"talk to a person", false, cmdHuman, ""},
		{"dừng", false, cmdStop, ""},
		{"dung", false, cmdStop, ""},
		{"stop", false, cmdStop, ""},
		{"đăng ký nhận tin", false, cmdSubscribe, ""},
		{"dang ky nhan tin", false, cmdSubscribe, ""},
		{"xóa dữ liệu", false, cmdForget, ""},
		{"xoa du lieu", false, cmdForget, ""},
		{"forget me", false, cmdForget, ""},
		{"bắt đầu", false, cmdStart, ""},
		{"bat dau", false, cmdStart, ""},
		{"menu", false, cmdMenu, ""},
		{"góp ý", false, cmdFeedback, ""},
		{"hồ sơ của tôi", false, cmdStatus, ""},
		// Whole messages only, never part of a longer answer.
		{"tôi muốn hủy bỏ cuộc hẹn", false, "", ""},
		{"please help me", false, "", ""},
		{"dừng xe đúng chỗ", false, "", ""},
		// Typed with diacritics, a word must match with them: Dũng is a name.
		{"Dũng", false, "", ""},
		{"Hùy", false, "", ""},
		// At the name step, names that are also keywords are names.
		{"Huy", true, "", ""},
		{"Dung", true, "", ""},
		{"hủy", true, cmdCancel, ""},
		{"", false, "", ""},
	}
	for _, tt := range tests {
		cmd, arg, ok := matchKeyword(tt.text, tt.atName)
		if ok != (tt.cmd != "") || cmd != tt.cmd || arg != tt.arg {
			t.Errorf("matchKeyword(%q, %v) = %q, %q, %v; want %q, %q", tt.text, tt.atName, cmd, arg, ok, tt.cmd, tt.arg)
		}
	}
}

func TestCommandName(t *testing.T) {
	tests := map[string]string{
		"start": cmdStart, "/start": cmdStart, "Start@sangkien_bot": cmdStart, "lang": cmdLanguage,
		"operator": cmdHuman, "forget": cmdForget, "whatever": cmdHelp, "": cmdHelp,
	}
	for in, want := range tests {
		if got := commandName(in); got != want {
			t.Errorf("commandName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestValidName(t *testing.T) {
	tests := []struct {
		in string
		ok bool
	}{
		{"Nguyễn Thị Lan", true},
		{"Huy", true},
		{"Anna Müller", true},
		{"Mary-Jane O'Neil", true},
		{"Jr. Smith", true},
		{"A", false},
		{"Nguyen 123", false},
		{"lan@example.vn", false},
		{"--", false},
		{string(make([]rune, 101)), false},
	}
	for _, tt := range tests {
		if got := validName(tt.in); got != tt.ok {
			t.Errorf("validName(%q) = %v, want %v", tt.in, got, tt.ok)
		}
	}
}

func TestAttachmentProblem(t *testing.T) {
	tests := []struct {
		name string
		a    bot.Attachment
		want string
	}{
		{"photo without type", bot.Attachment{Kind: bot.Photo}, ""},
		{"photo jpeg", bot.Attachment{Kind: bot.Photo, MIME: "image/jpeg"}, ""},
		{"pdf by type", bot.Attachment{Kind: bot.Document, MIME: "application/pdf"}, ""},
		{"docx by type", bot.Attachment{Kind: bot.Document, MIME: "application/vnd.openxmlformats-officedocument.wordprocessingml.document"}, ""},
		{"doc by name", bot.Attachment{Kind: bot.Document, Name: "KE-HOACH.DOC", MIME: "application/octet-stream"}, ""},
		{"xls by name", bot.Attachment{Kind: bot.Document, Name: "bang.xls"}, ""},
		{"xlsx by type", bot.Attachment{Kind: bot.Document, MIME: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet; charset=binary"}, ""},
		{"image document", bot.Attachment{Kind: bot.Document, Name: "anh.png", MIME: "image/png"}, ""},
		{"exactly 20 MB", bot.Attachment{Kind: bot.Document, Name: "a.pdf", Size: 20 << 20}, ""},
		{"too big", bot.Attachment{Kind: bot.Document, Name: "a.pdf", Size: 20<<20 + 1}, "initiative.attachments.too_big"},
		{"exe", bot.Attachment{Kind: bot.Document, Name: "setup.exe", MIME: "application/x-msdownload"}, "initiative.attachments.bad_type"},
		{"zip", bot.Attachment{Kind: bot.Document, Name: "a.zip"}, "initiative.attachments.bad_type"},
		{"video as photo", bot.Attachment{Kind: bot.Photo, MIME: "video/mp4"}, "initiative.attachments.bad_type"},
		{"negative size", bot.Attachment{Kind: bot.Document, Name: "ke-hoach.pdf", MIME: "application/pdf", Size: -1}, "initiative.attachments.bad_size"},
		{"zero size: unknown", bot.Attachment{Kind: bot.Document, Name: "ke-hoach.pdf", MIME: "application/pdf", Size: 0}, ""},
		{"exe declared as pdf", bot.Attachment{Kind: bot.Document, Name: "evil.exe", MIME: "application/pdf"}, "initiative.attachments.bad_type"},
		{"pdf declared as html", bot.Attachment{Kind: bot.Document, Name: "x.pdf", MIME: "text/html"}, "initiative.attachments.bad_type"},
		{"pdf declared as a word file", bot.Attachment{Kind: bot.Document, Name: "x.pdf", MIME: "application/msword"}, "initiative.attachments.bad_type"},
		{"html without a name", bot.Attachment{Kind: bot.Document, MIME: "text/html"}, "initiative.attachments.bad_type"},
		{"neither name nor type", bot.Attachment{Kind: bot.Document}, "initiative.attachments.bad_type"},
		{"name ending in a dot", bot.Attachment{Kind: bot.Document, Name: "evil.exe.", MIME: "application/pdf"}, "initiative.attachments.bad_type"},
		{"photo named as a document", bot.Attachment{Kind: bot.Photo, Name: "a.pdf"}, "initiative.attachments.bad_type"},
	}
	for _, tt := range tests {
		if got := attachmentProblem(tt.a); got != tt.want {
			t.Errorf("%s: attachmentProblem = %q, want %q", tt.name, got, tt.want)
		}
	}
}

// FileType is the one check of a file's type, for every channel and the media proxy:
// extension and declared type both on the allow-list, and naming the same kind.
func TestFileType(t *testing.T) {
	const docx = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
	tests := []struct {
		kind           bot.AttachmentKind
		name, declared string
		want           string // "" when refused
	}{
		{bot.Document, "ke-hoach.pdf", "application/pdf", "application/pdf"},
		{bot.Document, "KE-HOACH.PDF", "Application/PDF; charset=binary", "application/pdf"},
		{bot.Document, "ke-hoach.pdf", "", "application/pdf"},
		{bot.Document, "ke-hoach.pdf", "application/octet-stream", "application/pdf"},
		{bot.Document, "bien-ban.doc", "", "application/msword"},
		{bot.Document, "bien-ban.doc", docx, docx}, // one kind, Word: clients mix the two
		{bot.Document, "bang.xls", "application/vnd.ms-excel", "application/vnd.ms-excel"},
		{bot.Document, "", "application/pdf", "application/pdf"},
		{bot.Document, "ke-hoach", "application/pdf", "application/pdf"},
		{bot.Document, "anh.HEIC", "image/heif", "image/heif"},
		{bot.Photo, "", "", "image/jpeg"},
		{bot.Photo, "pic.png", "image/png", "image/png"},
		{bot.Photo, "pic.png", "", "image/png"},
		{bot.Document, "evil.exe", "application/pdf", ""},
		{bot.Document, "x.pdf", "text/html", ""},
		{bot.Document, "x.pdf", "image/jpeg", ""},
		{bot.Document, "anh.jpg", "application/pdf", ""},
		{bot.Document, "page.html", "", ""},
		{bot.Document, "", "text/html; charset=utf-8", ""},
		{bot.Document, "notes.txt", "text/plain", ""},
		{bot.Document, "", "", ""},
		{bot.Document, "", "application/octet-stream", ""},
		{bot.Document, "ke-hoach.pdf.exe", "application/pdf", ""},
		{bot.Photo, "", "image/svg+xml", ""},
		{bot.Photo, "", "application/pdf", ""},
	}
	for _, tt := range tests {
		got, ok := FileType(tt.kind, tt.name, tt.declared)
		if ok != (tt.want != "") || got != tt.want {
			t.Errorf("FileType(%s, %q, %q) = %q, %t; want %q", tt.kind, tt.name, tt.declared, got, ok, tt.want)
		}
	}
}

func TestClip(t *testing.T) {
	tests := []struct {
		in   string
		n    int
		want string
	}{
		{"ngắn", 10, "ngắn"},
		{"Bot hỏi hơi nhiều câu quá", 12, "Bot hỏi hơi…"},
		{"abcdefghijklmnop", 5, "abcde…"},
		{"hai\ndòng", 20, "hai dòng"},
	}
	for _, tt := range tests {
		if got := clip(tt.in, tt.n); got != tt.want {
			t.Errorf("clip(%q, %d) = %q, want %q", tt.in, tt.n, got, tt.want)
		}
	}
}

func TestClean(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"vietnamese kept, NFC", "Tr\u0061\u0300n Văn Minh", "Tràn Văn Minh"},
		{"line breaks and tabs kept", "một\r\nhai\rba\tbốn", "một\nhai\nba\tbốn"},
		{"control characters", "ab\x00c\x07d\x7fe\u0085f", "abcdef"},
		{"ANSI colour", "\x1b[31;1mĐỏ\x1b[0m thường", "Đỏ thường"},
		{"clear screen and cursor", "\x1b[2J\x1b[Hxin chào\x1b[?25l", "xin chào"},
		{"OSC title and link", "\x1b]0;hacked\x07a\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\", "alink"},
		{"C1 CSI", "\u009b31mred", "red"},
		{"two-character ESC", "a\x1bcb\x1b", "ab"},
		{"bidi override", "hoa-don\u202Efdp.exe", "hoa-donfdp.exe"},
		{"bidi isolates and marks", "\u2066a\u2069\u200eb\u200f\u061c", "ab"},
		{"zero-width", "Hà\u200bNội\u2060\ufeff\u00ad", "HàNội"},
		{"lone ZWJ dropped", "a\u200db", "ab"},
		{"emoji ZWJ kept", "👨\u200d👩\u200d👧 gia đình", "👨\u200d👩\u200d👧 gia đình"},
		{"emoji with VS16 and ZWJ", "❤\ufe0f\u200d🔥", "❤\ufe0f\u200d🔥"},
		{"skin tone", "👍🏽 tốt", "👍🏽 tốt"},
		{"invalid UTF-8", "a\xffb\xc3", "ab"},
		{"trimmed", " \u200b  ý kiến \n", "ý kiến"},
	}
	for _, tt := range tests {
		if got := clean(tt.in); got != tt.want {
			t.Errorf("%s: clean(%q) = %q; want %q", tt.name, tt.in, got, tt.want)
		}
	}
}
