package zalo

import (
	"fmt"
	"testing"
	"time"

	json "github.com/go-json-experiment/json/v1"
)

func TestEventTime(t *testing.T) {
	tests := []struct {
		in   flexString
		want time.Time // zero: an error
	}{
		{"1764316800000", time.UnixMilli(1764316800000).UTC()},
		{" 1764316800123 ", time.UnixMilli(1764316800123).UTC()},
		{"1764316800", time.Unix(1764316800, 0).UTC()},   // seconds
		{"15503500848", time.Unix(15503500848, 0).UTC()}, // the docs' sample, as seconds: year 2461
		{"9999999999999999", time.UnixMilli(9999999999999999).UTC()},
		{"99999999999999999", time.Time{}}, // 17 digits
		{"99999999999999999999", time.Time{}},
		{"", time.Time{}},
		{"0", time.Time{}},
		{"-5", time.Time{}},
		{"+5", time.Time{}},
		{"1.7e12", time.Time{}},
		{"soon", time.Time{}},
	}
	for _, tt := range tests {
		got, err := eventTime(tt.in)
		if tt.want.IsZero() {
			if err == nil {
				t.Errorf("eventTime(%q) = %s, want an error", tt.in, got)
			}
			continue
		}
		if err != nil || !got.Equal(tt.want) {
			t.Errorf("eventTime(%q) = %s, %v, want %s", tt.in, got, err, tt.want)
		}
	}
}

// The window is checked on times, not on their difference, which overflows for
// timestamps centuries away.
func TestWithin(t *testing.T) {
	now := testNow
	tests := []struct {
		at   time.Time
		want bool
	}{
		{now, true},
		{now.Add(-DefaultMaxAge), true},
		{now.Add(DefaultMaxAge + time.Millisecond), false},
		{now.Add(-DefaultMaxAge - time.Millisecond), false},
		{time.Unix(15503500848, 0), false},
		{time.UnixMilli(9999999999999999), false},
		{time.Unix(1, 0), false},
	}
	for _, tt := range tests {
		if got := within(tt.at, now, DefaultMaxAge); got != tt.want {
			t.Errorf("within(%s) = %t, want %t", tt.at, got, tt.want)
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
