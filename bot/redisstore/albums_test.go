package redisstore

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sangkien/sangkien/bot"
)

var albumChat = bot.ConversationRef{Channel: bot.Telegram, ID: "987654321"}

const albumLease = 30 * time.Second

// addPart stores a part that must be accepted.
func addPart(t *testing.T, a *Albums, conv bot.ConversationRef, group string, id int64, data string, ready time.Time) {
	t.Helper()
	if err := a.Add(context.Background(), conv, group, id, []byte(data), ready); err != nil {
		t.Fatalf("Add(%s, %d): %v", group, id, err)
	}
}

// due claims the albums due at now.
func due(t *testing.T, a *Albums, now time.Time, n int) []string {
	t.Helper()
	got, err := a.Due(context.Background(), now, albumLease, n)
	if err != nil {
		t.Fatalf("Due: %v", err)
	}
	return got
}

// parts reads an album's waiting parts as strings.
func parts(t *testing.T, a *Albums, album string) (map[int64]string, bool) {
	t.Helper()
	raw, found, err := a.Parts(context.Background(), album)
	if err != nil {
		t.Fatalf("Parts: %v", err)
	}
	out := map[int64]string{}
	for id, b := range raw {
		out[id] = string(b)
	}
	return out, found
}

// An album's life: parts gathered once each, due a window after its last part,
// claimed for a lease, handed over; a part delivered again after that is not stored.
func TestAlbumLife(t *testing.T) {
	s, c := newStore(t)
	a := s.Albums()
	ctx := context.Background()
	t0 := time.UnixMilli(1_764_316_800_000)
	window := time.Second

	addPart(t, a, albumChat, "13578", 2, "part 2", t0.Add(window))
	addPart(t, a, albumChat, "13578", 1, "part 1", t0.Add(500*time.Millisecond+window))
	addPart(t, a, albumChat, "13578", 2, "part 2 again", t0.Add(900*time.Millisecond+window))
	if got := due(t, a, t0.Add(1200*time.Millisecond), 10); len(got) != 0 {
		t.Fatalf("due before a window passed since the last new part: %q", got)
	}
	albums := due(t, a, t0.Add(1500*time.Millisecond), 10)
	if len(albums) != 1 {
		t.Fatalf("due albums: %q, want one", albums)
	}
	album := albums[0]
	if want := s.prefix + ":" + tag(ShardOf(albumChat)) + ":album:tg:987654321:13578"; album != want {
		t.Errorf("album name %q, want %q", album, want)
	}
	if ttl := c.PTTL(ctx, album).Val(); ttl <= 0 || ttl > AlbumTTL {
		t.Errorf("album TTL %s, want at most %s", ttl, AlbumTTL)
	}
	got, found := parts(t, a, album)
	if want := map[int64]string{1: "part 1", 2: "part 2"}; !found || !reflect.DeepEqual(got, want) {
		t.Errorf("parts %v (found %t), want %v: a part delivered twice is kept once", got, found, want)
	}
	if again := due(t, a, t0.Add(1500*time.Millisecond), 10); len(again) != 0 {
		t.Errorf("claimed album given out again inside its lease: %q", again)
	}
	if again := due(t, a, t0.Add(1500*time.Millisecond+albumLease), 10); !slices.Equal(again, albums) {
		t.Errorf("album after its lease: %q, want it claimable again", again)
	}

	if err := a.Done(ctx, album, []int64{1, 2}); err != nil {
		t.Fatal(err)
	}
	addPart(t, a, albumChat, "13578", 2, "part 2 once more", t0.Add(3*window))
	if left := due(t, a, t0.Add(time.Hour), 10); len(left) != 0 {
		t.Errorf("handed-over album still due: %q", left)
	}
	if got, found := parts(t, a, album); !found || len(got) != 0 {
		t.Errorf("parts after Done: %v (found %t), want none, found", got, found)
	}
	if ttl := c.PTTL(ctx, album).Val(); ttl <= 0 {
		t.Errorf("handed-over markers have TTL %s: they must expire", ttl)
	}
}

// A part that arrives while its album is being handed over is not lost: Done leaves
// it, due again at once.
func TestAlbumPartDuringHandover(t *testing.T) {
	s, _ := newStore(t)
	a := s.Albums()
	now := time.Now()
	addPart(t, a, albumChat, "g1", 10, "first", now)
	albums := due(t, a, now, 10)
	addPart(t, a, albumChat, "g1", 11, "late", now.Add(time.Second))
	if err := a.Done(context.Background(), albums[0], []int64{10}); err != nil {
		t.Fatal(err)
	}
	again := due(t, a, time.Now(), 10)
	if !slices.Equal(again, albums) {
		t.Fatalf("due after Done with a late part: %q, want %q", again, albums)
	}
	if got, _ := parts(t, a, albums[0]); !reflect.DeepEqual(got, map[int64]string{11: "late"}) {
		t.Errorf("parts left: %v", got)
	}
}

// An album kept past its TTL is gone: Parts says so, Done takes it off the due set.
func TestAlbumExpired(t *testing.T) {
	s, c := newStore(t)
	a := s.Albums()
	ctx := context.Background()
	now := time.Now()
	addPart(t, a, albumChat, "g1", 10, "first", now)
	albums := due(t, a, now, 10)
	c.Del(ctx, albums[0]) // as its TTL would
	if got, found := parts(t, a, albums[0]); found || len(got) != 0 {
		t.Errorf("expired album: parts %v, found %t", got, found)
	}
	if err := a.Done(ctx, albums[0], nil); err != nil {
		t.Fatal(err)
	}
	if n := c.ZCard(ctx, a.dueKey(ShardOf(albumChat))).Val(); n != 0 {
		t.Errorf("due set holds %d albums after the expired one was done", n)
	}
	if n := c.Exists(ctx, albums[0]).Val(); n != 0 {
		t.Error("Done wrote an expired album back")
	}
}

// Albums are told apart by chat and group, across shards, and Due takes at most n.
func TestAlbumsApart(t *testing.T) {
	s, _ := newStore(t)
	a := s.Albums()
	now := time.Now()
	other := bot.ConversationRef{Channel: bot.Telegram, ID: "123456789"}
	addPart(t, a, albumChat, "g1", 1, "a", now)
	addPart(t, a, albumChat, "g2", 2, "b", now)
	addPart(t, a, other, "g1", 3, "c", now)
	first := due(t, a, now, 2)
	rest := due(t, a, now, 2)
	if len(first) != 2 || len(rest) != 1 {
		t.Fatalf("Due by two: %q then %q, want two then one", first, rest)
	}
	all := append(first, rest...)
	slices.Sort(all)
	if all = slices.Compact(all); len(all) != 3 {
		t.Errorf("albums %q: want three different", all)
	}
	for _, album := range all {
		got, _ := parts(t, a, album)
		if len(got) != 1 {
			t.Errorf("album %s parts %v, want its own one", album, got)
		}
	}
}

func TestAlbumRefusals(t *testing.T) {
	s, _ := newStore(t)
	a := s.Albums()
	ctx := context.Background()
	adds := []struct {
		label string
		conv  bot.ConversationRef
		group string
		data  string
	}{
		{"no conversation", bot.ConversationRef{}, "g", "x"},
		{"no group", albumChat, "", "x"},
		{"empty part: it would read as handed over", albumChat, "g", ""},
	}
	for _, tt := range adds {
		if err := a.Add(ctx, tt.conv, tt.group, 1, []byte(tt.data), time.Now()); err == nil {
			t.Errorf("Add with %s: no error", tt.label)
		}
	}
	names := []string{
		"",
		"other:{s03}:album:tg:1:g",
		s.prefix + ":{s32}:album:tg:1:g",
		s.prefix + ":{s03}:state:tg:1",
		s.prefix + ":{s3}:album:tg:1:g",
	}
	for _, name := range names {
		if _, _, err := a.Parts(ctx, name); err == nil {
			t.Errorf("Parts(%q): no error", name)
		}
		err := a.Done(ctx, name, []int64{1})
		if err == nil {
			t.Errorf("Done(%q): no error", name)
		} else if name != "" && strings.Contains(err.Error(), name) {
			t.Errorf("error %q names the album: it holds a chat id", err)
		}
	}
}

// A claimer whose lease ended, and whose album another claimer took over, cannot mark
// it done: the new claimer does.
func TestAlbumDoneIsFenced(t *testing.T) {
	s, _ := newStore(t)
	slow, fast := s.Albums(), s.Albums()
	ctx := context.Background()
	now := time.Now()
	addPart(t, slow, albumChat, "g1", 10, "first", now)
	albums := due(t, slow, now, 10)
	if len(albums) != 1 {
		t.Fatalf("due albums: %q", albums)
	}
	if again := due(t, fast, now.Add(albumLease), 10); !slices.Equal(again, albums) {
		t.Fatalf("taken over after the lease: %q, want %q", again, albums)
	}
	if err := slow.Done(ctx, albums[0], []int64{10}); !errors.Is(err, ErrLeaseLost) {
		t.Fatalf("Done by the claimer whose lease ended: %v, want ErrLeaseLost", err)
	}
	if got, _ := parts(t, fast, albums[0]); len(got) != 1 {
		t.Fatalf("parts after a refused Done: %v, want the part still waiting", got)
	}
	if err := fast.Done(ctx, albums[0], []int64{10}); err != nil {
		t.Fatal(err)
	}
	if left := due(t, fast, now.Add(time.Hour), 10); len(left) != 0 {
		t.Errorf("handed-over album still due: %q", left)
	}
}
