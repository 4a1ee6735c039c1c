package zalo

import (
	"encoding/json"
	"fmt"
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

func TestLocationCoordinates(t *testing.T) {
	tests := []struct {
		lat, lon string
		ok       bool
	}{
		{"21.028511", "105.854167", true},
		{" -90 ", "180", true},
		{"NaN", "105.8", false},
		{"21.0", "nan", false},
		{"Inf", "105.8", false},
		{"21.0", "-Infinity", false},
		{"+inf", "105.8", false},
		{"1e400", "105.8", false}, // overflows to Inf
		{"90.0001", "105.8", false},
		{"21.0", "-180.5", false},
		{"", "105.8", false},
		{"north", "105.8", false},
	}
	for _, tt := range tests {
		payload := fmt.Sprintf(`{"coordinates":{"latitude":%q,"longitude":%q}}`, tt.lat, tt.lon)
		m := message{Attachments: []attachment{{Type: "location", Payload: json.RawMessage(payload)}}}
		loc, err := location(m)
		if tt.ok != (err == nil) {
			t.Errorf("location(%q, %q) = %+v, %v; want ok=%t", tt.lat, tt.lon, loc, err, tt.ok)
			continue
		}
		if loc != nil {
			if _, err := json.Marshal(loc); err != nil {
				t.Errorf("location(%q, %q) does not encode: %v", tt.lat, tt.lon, err)
			}
		}
	}
}
