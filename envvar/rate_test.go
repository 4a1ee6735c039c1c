package envvar

import (
	"testing"
	"time"
)

func TestParseRate(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want Rate
		bad  bool
	}{
		{in: "30/1s", want: Rate{30, time.Second}},
		{in: "30/s", want: Rate{30, time.Second}},
		{in: " 4000 / 1m ", want: Rate{4000, time.Minute}},
		{in: "30/1.1s", want: Rate{30, 1100 * time.Millisecond}},
		{in: "", want: Rate{}},
		{in: "none", want: Rate{}},
		{in: "30", bad: true},
		{in: "0/1s", bad: true},
		{in: "-5/1s", bad: true},
		{in: "30/0s", bad: true},
		{in: "thirty/s", bad: true},
		{in: "30/fortnight", bad: true},
	} {
		got, err := ParseRate(tt.in)
		if (err != nil) != tt.bad || got != tt.want {
			t.Errorf("ParseRate(%q) = %v, %v; want %v (error: %v)", tt.in, got, err, tt.want, tt.bad)
		}
	}
	if s := (Rate{30, 1100 * time.Millisecond}).String(); s != "30/1.1s" {
		t.Errorf("String = %q", s)
	}
}
