package redisstore

import (
	"context"
	"testing"
	"time"

	"github.com/sangkien/sangkien/bot"
)

func TestWebRepliesAreCappedExpiringAndKeptOnce(t *testing.T) {
	s, c := newStore(t)
	ctx := context.Background()
	w := s.WebReplies(2, time.Hour)
	var ids []string
	for _, id := range []string{"e1/0", "e2/0", "e2/0", "e3/0"} {
		got, err := w.Append(ctx, "conv", id, []byte(`{"text":"`+id+`"}`))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, got)
	}
	if ids[2] != "" || ids[0] == "" || ids[3] == "" {
		t.Fatalf("append answered %q, want a stream id for each new reply and none for the repeat", ids)
	}
	got, entries, err := w.After(ctx, "conv", "", 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0] != ids[1] || string(entries[1]) != `{"text":"e3/0"}` {
		t.Fatalf("kept %q %q, want the last two", got, entries)
	}
	if rest, _, _ := w.After(ctx, "conv", got[0], 10); len(rest) != 1 || rest[0] != got[1] {
		t.Fatalf("after %s: %q", got[0], rest)
	}
	for _, k := range w.keys("conv") {
		if ttl := c.PTTL(ctx, k).Val(); ttl <= 0 || ttl > time.Hour {
			t.Errorf("%s: TTL %v, want up to an hour", k, ttl)
		}
	}
	if other, _, _ := w.After(ctx, "other", "", 10); len(other) != 0 {
		t.Fatalf("another conversation reads %q", other)
	}
}

func TestWebFilesExpire(t *testing.T) {
	s, c := newStore(t)
	ctx := context.Background()
	f := s.WebFiles()
	if err := f.Put(ctx, "conv", "f1", []byte("\x89PNG"), "image/png", "a.png", time.Hour); err != nil {
		t.Fatal(err)
	}
	data, mt, found, err := f.Get(ctx, "conv", "f1")
	if err != nil || !found || string(data) != "\x89PNG" || mt != "image/png" {
		t.Fatalf("got %q %q %v %v", data, mt, found, err)
	}
	if ttl := c.PTTL(ctx, f.key("conv", "f1")).Val(); ttl <= 0 || ttl > time.Hour {
		t.Fatalf("TTL %v", ttl)
	}
	if _, _, found, err := f.Get(ctx, "conv", "f2"); found || err != nil {
		t.Fatalf("a file never put: found %v, %v", found, err)
	}
}

// Erasing a web chat conversation (Commit with Forget) erases what the web chat kept of
// it beside the session: the bot's replies, their ids and the files the citizen sent;
// another conversation's stay.
func TestForgetErasesAWebChatConversationsRepliesAndFiles(t *testing.T) {
	s, c := newStore(t)
	ctx := context.Background()
	w, f := s.WebReplies(10, time.Hour), s.WebFiles()
	for _, conv := range []string{"wc1", "wc2"} {
		if _, err := w.Append(ctx, conv, "e1/0", []byte(`{"text":"Họ tên: Nguyễn Thị Hoa"}`)); err != nil {
			t.Fatal(err)
		}
		if err := f.Put(ctx, conv, "f1", []byte("\x89PNG"), "image/png", "anh.png", time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	conv := bot.ConversationRef{Channel: bot.Web, ID: "wc1"}
	l := begin(t, s, conv, "wc1/forget")
	if err := s.Commit(ctx, l, bot.Change{Forget: true}); err != nil {
		t.Fatal(err)
	}
	if n := c.Exists(ctx, append(w.keys("wc1"), webKey(s.prefix, "wc1")+":files", f.key("wc1", "f1"))...).Val(); n != 0 {
		t.Errorf("%d of the erased conversation's web chat keys remain", n)
	}
	if got, _, _ := w.After(ctx, "wc2", "", 10); len(got) != 1 {
		t.Errorf("the other conversation's replies: %q", got)
	}
	if _, _, found, _ := f.Get(ctx, "wc2", "f1"); !found {
		t.Error("the other conversation's file was erased")
	}
}
