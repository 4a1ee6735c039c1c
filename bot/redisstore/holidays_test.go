package redisstore

import (
	"context"
	"maps"
	"testing"
)

func TestHolidays(t *testing.T) {
	s, c := newStore(t)
	h := s.Holidays()
	ctx := context.Background()
	if got, err := h.List(ctx); err != nil || len(got) != 0 {
		t.Fatalf("empty list: %v, %v", got, err)
	}
	for date, v := range map[string]string{"2026-02-20": "normal", "2026-03-07": "work Làm bù", "2026-03-09": "off Nghỉ"} {
		if err := h.Put(ctx, date, v); err != nil {
			t.Fatal(err)
		}
	}
	if err := h.Put(ctx, "2026-03-09", "off Nghỉ bù"); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"2026-02-20": "normal", "2026-03-07": "work Làm bù", "2026-03-09": "off Nghỉ bù"}
	if got, err := h.List(ctx); err != nil || !maps.Equal(got, want) {
		t.Errorf("list: %v, %v", got, err)
	}
	if ok, err := h.Delete(ctx, "2026-03-07"); err != nil || !ok {
		t.Errorf("delete: %v, %v", ok, err)
	}
	if ok, err := h.Delete(ctx, "2026-03-07"); err != nil || ok {
		t.Errorf("delete again: %v, %v", ok, err)
	}
	if n, err := c.HLen(ctx, s.prefix+":holidays").Result(); err != nil || n != 2 {
		t.Errorf("the hash holds %d fields (%v), want 2", n, err)
	}
}
