package sangkien_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/sangkien/sangkien"
	"github.com/sangkien/sangkien/programs"
)

// The embedded catalog is what a fresh checkout runs with: it must load, and keep at
// least two programs open through 2027 so `sangkien chat` has something to offer.
func TestDefaultPrograms(t *testing.T) {
	ps, err := programs.Load(bytes.NewReader(sangkien.DefaultPrograms))
	if err != nil {
		t.Fatalf("load embedded programs.yaml: %v", err)
	}
	tests := []struct {
		at       string
		wantOpen int
	}{
		{"2026-11-28T12:00:00+07:00", 2},
		{"2027-12-31T12:00:00+07:00", 2},
		{"2026-05-01T12:00:00+07:00", 1},
	}
	for _, tt := range tests {
		at, err := time.Parse(time.RFC3339, tt.at)
		if err != nil {
			t.Fatal(err)
		}
		if got := len(ps.OpenAt(at)); got != tt.wantOpen {
			t.Errorf("programs open at %s = %d, want %d", tt.at, got, tt.wantOpen)
		}
	}
	for _, p := range ps {
		for _, f := range p.Fields {
			if f.ServiceCode == "" {
				t.Errorf("program %s field %s: no service_code", p.ID, f.ID)
			}
		}
	}
}
