package redisstore

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sangkien/sangkien/bot"
)

func TestCanned(t *testing.T) {
	s, c := newStore(t)
	cn := s.Canned()
	ctx := context.Background()
	at := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	answers := []bot.CannedAnswer{
		{ID: "le-phi", Title: "Lệ phí", Text: map[string]string{"vi": "Lệ phí là 50.000 đồng.", "en": "The fee is 50,000 dong."},
			UpdatedBy: "lan@hanoi.gov.vn", UpdatedAt: at},
		{ID: "dia-chi", Title: "Địa chỉ tiếp nhận", Text: map[string]string{"vi": "Số 1 Tràng Tiền, Hoàn Kiếm."}, UpdatedBy: "an@hanoi.gov.vn", UpdatedAt: at},
		{ID: "chao", Title: "chào hỏi", Text: map[string]string{"vi": "Chào {name}!"}, UpdatedBy: "an@hanoi.gov.vn", UpdatedAt: at},
		{ID: "zalo", Title: "Zalo", Text: map[string]string{"vi": "Nhắn qua Zalo."}, UpdatedBy: "an@hanoi.gov.vn", UpdatedAt: at},
		{ID: "dang-ky", Title: "Đăng ký", Text: map[string]string{"vi": "Đăng ký tại quầy 3."}, UpdatedBy: "an@hanoi.gov.vn", UpdatedAt: at},
		{ID: "danh-sach", Title: "Danh sách", Text: map[string]string{"vi": "Xem danh sách."}, UpdatedBy: "an@hanoi.gov.vn", UpdatedAt: at},
	}
	for _, a := range answers {
		if err := cn.Put(ctx, a); err != nil {
			t.Fatalf("Put(%s): %v", a.ID, err)
		}
	}

	got, err := cn.Get(ctx, "le-phi")
	if err != nil || got.Title != "Lệ phí" || got.Text["en"] != "The fee is 50,000 dong." || got.UpdatedBy != "lan@hanoi.gov.vn" || !got.UpdatedAt.Equal(at) {
		t.Errorf("Get = %+v, %v", got, err)
	}
	if _, err := cn.Get(ctx, "khong-co"); !errors.Is(err, bot.ErrUnknownCanned) {
		t.Errorf("Get unknown = %v", err)
	}

	list, err := cn.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, a := range list {
		ids = append(ids, a.ID)
	}
	// Vietnamese order, case aside: c, D, Đ (both), L, Z.
	if got := strings.Join(ids, ","); got != "chao,danh-sach,dang-ky,dia-chi,le-phi,zalo" {
		t.Errorf("List order = %s", got)
	}

	// Put replaces; a zero UpdatedAt becomes the time of the Put.
	before := time.Now()
	if err := cn.Put(ctx, bot.CannedAnswer{ID: "le-phi", Title: "Lệ phí mới", Text: map[string]string{"vi": "Miễn phí."}, UpdatedBy: "an@hanoi.gov.vn"}); err != nil {
		t.Fatal(err)
	}
	got, _ = cn.Get(ctx, "le-phi")
	if got.Title != "Lệ phí mới" || got.Text["en"] != "" || got.UpdatedAt.Before(before.Add(-time.Second)) {
		t.Errorf("after replacing: %+v", got)
	}

	// Put refuses what Validate refuses, and writes nothing.
	for _, bad := range []bot.CannedAnswer{
		{ID: "Bad ID", Title: "x", Text: map[string]string{"vi": "x"}},
		{ID: "no-vi", Title: "x", Text: map[string]string{"en": "x"}},
		{ID: "fr", Title: "x", Text: map[string]string{"vi": "x", "fr": "x"}},
	} {
		if err := cn.Put(ctx, bad); !errors.Is(err, bot.ErrInvalidCanned) {
			t.Errorf("Put(%s) = %v, want ErrInvalidCanned", bad.ID, err)
		}
	}
	if n := c.HLen(ctx, cn.key).Val(); n != int64(len(answers)) {
		t.Errorf("hash holds %d answers, want %d", n, len(answers))
	}

	if err := cn.Delete(ctx, "zalo"); err != nil {
		t.Fatal(err)
	}
	if _, err := cn.Get(ctx, "zalo"); !errors.Is(err, bot.ErrUnknownCanned) {
		t.Errorf("Get after Delete = %v", err)
	}
	if err := cn.Delete(ctx, "zalo"); !errors.Is(err, bot.ErrUnknownCanned) {
		t.Errorf("second Delete = %v", err)
	}
	if list, _ := cn.List(ctx); len(list) != len(answers)-1 {
		t.Errorf("List after Delete has %d answers", len(list))
	}
}

func TestCannedEmpty(t *testing.T) {
	s, _ := newStore(t)
	list, err := s.Canned().List(context.Background())
	if err != nil || len(list) != 0 {
		t.Errorf("List of none = %+v, %v", list, err)
	}
}
