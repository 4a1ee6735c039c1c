package zalo

import (
	"context"
	"testing"
)

func TestFileURL(t *testing.T) {
	tests := []struct {
		ref string
		ok  bool
	}{
		{"https://f1.zdn.vn/file/de-xuat.pdf", true},
		{"http://photo-stal-1.zdn.vn/abc.jpg", true},
		{"file:///etc/passwd", false},
		{"/etc/passwd", false},
		{"https://", false},
		{"AgACAgUAAxkBAAIBp_large", false}, // a Telegram file_id
	}
	for _, tt := range tests {
		got, err := FileURL(context.Background(), tt.ref)
		if (err == nil) != tt.ok || (tt.ok && got != tt.ref) {
			t.Errorf("FileURL(%q) = %q, %v", tt.ref, got, err)
		}
	}
}
