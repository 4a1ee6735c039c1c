package zalo

import (
	"context"
	"testing"
)

func TestFileURLs(t *testing.T) {
	f := FileURLs{Hosts: DefaultFileHosts()}
	tests := []struct {
		ref string
		ok  bool
	}{
		{"https://f1.zdn.vn/file/de-xuat.pdf", true},
		{"https://zdn.vn/a.jpg", true},
		{"https://dl.ZaloApp.com/x/ke-hoach.docx", true},
		{"http://photo-stal-1.zdn.vn/abc.jpg", false}, // not https
		{"https://zdn.vn.evil.example/a.jpg", false},
		{"https://evilzdn.vn/a.jpg", false},
		{"https://user@f1.zdn.vn/a.jpg", false},
		{"https://127.0.0.1/admin", false},
		{"https://169.254.169.254/latest/meta-data", false},
		{"file:///etc/passwd", false},
		{"/etc/passwd", false},
		{"https://", false},
		{"AgACAgUAAxkBAAIBp_large", false}, // a Telegram file_id
	}
	for _, tt := range tests {
		got, err := f.Resolve(context.Background(), tt.ref)
		if (err == nil) != tt.ok || (tt.ok && got != tt.ref) {
			t.Errorf("Resolve(%q) = %q, %v; want ok=%v", tt.ref, got, err, tt.ok)
		}
	}
	if _, err := (FileURLs{}).Resolve(context.Background(), "https://f1.zdn.vn/a.jpg"); err == nil {
		t.Error("an empty host list allowed a URL")
	}
}
