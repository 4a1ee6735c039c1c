package media_test

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/sangkien/sangkien/bot"
	"github.com/sangkien/sangkien/bot/redisstore"
	"github.com/sangkien/sangkien/bot/redisstore/redistest"
	"github.com/sangkien/sangkien/integrations/media"
)

func TestSubmissionLinkIsTheSubmissionsOwn(t *testing.T) {
	s, err := media.NewSigner(testKey, base, 7*24*time.Hour, nil)
	if err != nil {
		t.Fatal(err)
	}
	a := bot.Attachment{Kind: bot.Photo, Ref: "AgAD-1", MIME: "image/jpeg"}
	sub := bot.Submission{Conversation: bot.ConversationRef{Channel: bot.Zalo, ID: "u1"}, SubmittedAt: time.Now().Add(-time.Hour)}
	got, err := s.SubmissionLink(a, sub)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := s.LinkSince(bot.Zalo, a, sub.SubmittedAt)
	if got != want {
		t.Errorf("SubmissionLink = %s, want the link of the submission's channel and time %s", got, want)
	}
}

// failingKeys is a key store that cannot answer, as Redis down at start.
type failingKeys struct{}

func (failingKeys) SharedKey(context.Context, string, int) ([]byte, error) {
	return nil, errors.New("redis down")
}

func TestSignerFor(t *testing.T) {
	ctx := context.Background()
	store := redisstore.New(redistest.Client(t), redisstore.Options{Prefix: redistest.Prefix(t)})
	a := bot.Attachment{Kind: bot.Document, Ref: "doc-1", MIME: "application/pdf"}

	// Two processes without MEDIA_SECRET share one key through Redis: a link one signs,
	// the other accepts.
	one, err := media.SignerFor(ctx, "", store, base, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	other, err := media.SignerFor(ctx, "", store, base, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	link, err := one.Link(bot.Telegram, a)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.Check(linkParts(t, link)); err != nil {
		t.Errorf("a link signed by one process is refused by another: %v", err)
	}

	// MEDIA_SECRET, when set, is the key; the store is not asked.
	fixed, err := media.SignerFor(ctx, string(testKey), failingKeys{}, base, time.Hour)
	if err != nil {
		t.Fatalf("with MEDIA_SECRET: %v", err)
	}
	if _, err := fixed.Check(linkParts(t, link)); err == nil {
		t.Error("a link signed with the shared key passes a signer keyed with MEDIA_SECRET")
	}
	if _, err := media.SignerFor(ctx, "", failingKeys{}, base, time.Hour); err == nil || !strings.Contains(err.Error(), "media link key") {
		t.Errorf("store down: err = %v, want one naming the media link key", err)
	}
	if _, err := media.SignerFor(ctx, "short", failingKeys{}, base, time.Hour); err == nil || !strings.HasPrefix(err.Error(), "MEDIA_SECRET") {
		t.Errorf("short secret: err = %v, want one naming MEDIA_SECRET", err)
	}
}

// linkParts splits a media link into the id, exp and sig Check takes.
func linkParts(t *testing.T, link string) (id, exp, sig string) {
	t.Helper()
	path, query, _ := strings.Cut(strings.TrimPrefix(link, base+"/media/"), "?")
	for _, kv := range strings.Split(query, "&") {
		k, v, _ := strings.Cut(kv, "=")
		switch k {
		case "exp":
			exp = v
		case "sig":
			sig = v
		}
	}
	return path, exp, sig
}

// A console link is relative to the gateway, checks as any link does, and stops
// working after its own short ttl, not the signer's.
func TestPathForIsShortLived(t *testing.T) {
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	s, err := media.NewSigner(testKey, base, 7*24*time.Hour, func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	a := bot.Attachment{Kind: bot.Document, Ref: "BQAD-2", MIME: "application/pdf", Name: "đề án.pdf"}
	p, err := s.PathFor(bot.Telegram, a, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(p)
	if err != nil || u.Host != "" || !strings.HasPrefix(u.Path, "/media/") {
		t.Fatalf("PathFor = %q (%v), want a path under /media/", p, err)
	}
	id, q := strings.TrimPrefix(u.Path, "/media/"), u.Query()
	if f, err := s.Check(id, q.Get("exp"), q.Get("sig")); err != nil || f.Ref != a.Ref || f.Name != a.Name {
		t.Errorf("Check = %+v, %v", f, err)
	}
	now = now.Add(time.Hour + time.Second)
	if _, err := s.Check(id, q.Get("exp"), q.Get("sig")); err == nil {
		t.Error("the link still works past its hour")
	}
	if _, err := s.PathFor(bot.Telegram, bot.Attachment{Kind: bot.Photo}, time.Hour); err == nil {
		t.Error("a link without a file reference")
	}
}
