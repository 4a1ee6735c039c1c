package zalo

import (
	"testing"
	"time"
)

func TestMillis(t *testing.T) {
	tests := []struct {
		in   flexString
		want time.Time
	}{
		{"1764316800000", time.UnixMilli(1764316800000).UTC()},
		{" 1764316800123 ", time.UnixMilli(1764316800123).UTC()},
		{"1764316800", time.Unix(1764316800, 0).UTC()}, // seconds
		{"", time.Time{}},
		{"-5", time.Time{}},
		{"soon", time.Time{}},
	}
	for _, tt := range tests {
		if got := millis(tt.in); !got.Equal(tt.want) {
			t.Errorf("millis(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}
