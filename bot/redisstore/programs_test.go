package redisstore

import (
	"context"
	"maps"
	"testing"
)

func TestProgramEdits(t *testing.T) {
	s, c := newStore(t)
	p := s.ProgramEdits()
	ctx := context.Background()
	if got, err := p.List(ctx); err != nil || len(got) != 0 {
		t.Fatalf("empty list: %v, %v", got, err)
	}
	for id, v := range map[string]string{"xanh": `{"deadline":"2027-01-01T00:00:00+07:00"}`, "so": `{"reminders":[]}`} {
		if err := p.Put(ctx, id, v); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Put(ctx, "xanh", `{"deadline":"2027-02-01T00:00:00+07:00"}`); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"xanh": `{"deadline":"2027-02-01T00:00:00+07:00"}`, "so": `{"reminders":[]}`}
	if got, err := p.List(ctx); err != nil || !maps.Equal(got, want) {
		t.Errorf("list: %v, %v", got, err)
	}
	if ok, err := p.Delete(ctx, "so"); err != nil || !ok {
		t.Errorf("delete: %v, %v", ok, err)
	}
	if ok, err := p.Delete(ctx, "so"); err != nil || ok {
		t.Errorf("delete again: %v, %v", ok, err)
	}
	if n, err := c.HLen(ctx, s.prefix+":programs").Result(); err != nil || n != 1 {
		t.Errorf("the hash holds %d fields (%v), want 1", n, err)
	}
}
