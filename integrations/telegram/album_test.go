package telegram

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/sangkien/sangkien/bot"
	"github.com/sangkien/sangkien/bot/redisstore/redistest"
)

// wholeAlbum is the album of testdata/album_part*.json as one event.
const wholeAlbum = "700000012 attachments album1_large album2_large album3_large"

// newProcess is one gateway process's webhook on albums, running events through h.
func newProcess(t *testing.T, albums AlbumStore, h Handler, log *logBuffer) *Webhook {
	t.Helper()
	cfg := Config{Secret: testSecret, Handler: h, Albums: albums, AlbumWindow: time.Hour}
	if log != nil {
		cfg.Logger = log.Logger()
	}
	wh, err := NewWebhook(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = wh.Close(context.Background()) })
	return wh
}

// postAll posts testdata files to the webhooks in turn; each must be answered 200.
func postAll(t *testing.T, to []*Webhook, files ...string) {
	t.Helper()
	for i, f := range files {
		if code := post(t, to[i%len(to)], testSecret, readTestdata(t, f)); code != 200 {
			t.Fatalf("POST %s: status %d", f, code)
		}
	}
}

// summaries are the events a recorder got, as the webhook table states them.
func summaries(rec *recorder) []string {
	var out []string
	for _, ev := range rec.got() {
		out = append(out, summary(ev))
	}
	return out
}

// RunAlbums hands an album over once its window passed, and returns on Close.
func TestRunAlbums(t *testing.T) {
	rec := newRecorder(t)
	wh, err := NewWebhook(Config{Secret: testSecret, Handler: rec, Albums: newAlbums(t), AlbumWindow: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	stopped := make(chan struct{})
	go func() { wh.RunAlbums(context.Background()); close(stopped) }()
	if err := wh.Process(context.Background(), mustUpdate(t, "album_part1.json")); err != nil {
		t.Fatal(err)
	}
	<-rec.done // a sweep ran the album
	got := rec.got()
	if len(got) != 1 || got[0].ID != "700000012" || got[0].Text != "Vỉa hè bị lấn chiếm" || len(got[0].Attachments) != 1 {
		t.Errorf("album events: %s", dump(got))
	}
	if err := wh.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	<-stopped
}

// Parts of one album posted to two processes sharing a Redis make one event with every
// file in update order, whichever process sweeps; parts delivered again, to the other
// process or after the hand-over, are not doubled.
func TestAlbumAcrossProcesses(t *testing.T) {
	prefix := redistest.Prefix(t)
	rec := newRecorder(t)
	a := newProcess(t, albumsAt(t, prefix), rec, nil)
	b := newProcess(t, albumsAt(t, prefix), rec, nil)
	procs := []*Webhook{a, b}

	postAll(t, procs, "album_part2.json", "album_part1.json", "album_part3.json", "album_part2.json")
	sweepLater(b, 0)
	sweepLater(a, 0)
	postAll(t, procs, "album_part3.json", "album_part1.json") // delivered again after the hand-over
	sweepLater(a, time.Hour)
	sweepLater(b, time.Hour)

	if got := summaries(rec); !reflect.DeepEqual(got, []string{wholeAlbum}) {
		t.Errorf("events %q, want %q", got, wholeAlbum)
	}
	if ev := rec.got(); len(ev) == 1 && ev[0].Text != "Vỉa hè bị lấn chiếm" {
		t.Errorf("caption %q", ev[0].Text)
	}
	if n := rec.handled(); n != 1 {
		t.Errorf("engine called %d times, want once", n)
	}
}

// diesBeforeDone is a process's album store that dies between the engine taking an
// album and marking it done.
type diesBeforeDone struct{ AlbumStore }

func (diesBeforeDone) Done(context.Context, string, []int64) error {
	return errors.New("process killed")
}

// An album claimed by a process that dies is handed over by another after the lease,
// and the engine (its dedupe) runs it once.
func TestAlbumClaimerDies(t *testing.T) {
	tests := []struct {
		label string
		// die makes the first process claim the album due at now and die.
		die       func(t *testing.T, dead *Webhook, now time.Time)
		wantCalls int // Handle calls in all
	}{
		{"dies after claiming", func(t *testing.T, dead *Webhook, now time.Time) {
			if got, err := dead.cfg.Albums.Due(context.Background(), now, albumLease, 10); len(got) != 1 || err != nil {
				t.Fatalf("claimed %q, %v", got, err)
			}
		}, 1},
		{"dies after the engine took it", func(t *testing.T, dead *Webhook, now time.Time) {
			dead.sweepAlbums(context.Background(), now)
		}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.label, func(t *testing.T) {
			prefix := redistest.Prefix(t)
			rec := newRecorder(t)
			dead := newProcess(t, diesBeforeDone{albumsAt(t, prefix)}, rec, nil)
			live := newProcess(t, albumsAt(t, prefix), rec, nil)
			postAll(t, []*Webhook{dead, live}, "album_part1.json", "album_part2.json", "album_part3.json")

			tt.die(t, dead, time.Now().Add(dead.cfg.AlbumWindow+time.Second))
			sweepLater(live, 0) // inside the lease: not for the taking
			calls := rec.handled()
			sweepLater(live, albumLease)
			sweepLater(live, 2*albumLease) // done: not handed over again

			if got := summaries(rec); !reflect.DeepEqual(got, []string{wholeAlbum}) {
				t.Errorf("events %q, want %q", got, wholeAlbum)
			}
			if calls != tt.wantCalls-1 || rec.handled() != tt.wantCalls {
				t.Errorf("engine called %d times inside the lease, %d in all; want %d in all, the last after the lease",
					calls, rec.handled(), tt.wantCalls)
			}
		})
	}
}

// An engine failure leaves the album stored; it is tried again after the lease.
func TestAlbumEngineFails(t *testing.T) {
	rec := newRecorder(t)
	logs := &logBuffer{}
	wh := newProcess(t, newAlbums(t), rec, logs)
	postAll(t, []*Webhook{wh}, "album_part1.json", "album_part2.json", "album_part3.json")

	rec.setFail(errRedisDown)
	sweepLater(wh, 0)
	rec.setFail(nil)
	sweepLater(wh, 0) // the failed try's lease still holds
	if n := rec.handled(); n != 1 {
		t.Errorf("engine called %d times before the lease ended, want 1", n)
	}
	sweepLater(wh, albumLease)
	if got := summaries(rec); !reflect.DeepEqual(got, []string{wholeAlbum}) {
		t.Errorf("events %q, want %q", got, wholeAlbum)
	}
	if !strings.Contains(logs.String(), "album not handed over") || !strings.Contains(logs.String(), "tg:98***21") {
		t.Errorf("failure not logged with the masked chat:\n%s", logs.String())
	}
	if strings.Contains(logs.String(), "987654321") || strings.Contains(logs.String(), "Vỉa hè") {
		t.Errorf("logs hold the chat id or the caption:\n%s", logs.String())
	}
}

// failingAdd is an album store that cannot store parts (Redis is out).
type failingAdd struct{ AlbumStore }

func (failingAdd) Add(context.Context, bot.ConversationRef, string, int64, []byte, time.Time) error {
	return errRedisDown
}

// A part that could not be stored is answered 500: Telegram delivers it again.
func TestAlbumPartNotStored(t *testing.T) {
	rec := newRecorder(t)
	wh := newProcess(t, failingAdd{newAlbums(t)}, rec, nil)
	if code := post(t, wh, testSecret, readTestdata(t, "album_part1.json")); code != 500 {
		t.Errorf("status %d, want 500", code)
	}
	if err := wh.Process(context.Background(), mustUpdate(t, "album_part2.json")); !errors.Is(err, errRedisDown) {
		t.Errorf("Process: %v, want the store's error", err)
	}
}

// After Close a process still stores parts (the HTTP server may finish a request) but
// hands nothing over; another process does.
func TestAlbumPartAfterClose(t *testing.T) {
	prefix := redistest.Prefix(t)
	rec := newRecorder(t)
	closed := newProcess(t, albumsAt(t, prefix), rec, nil)
	other := newProcess(t, albumsAt(t, prefix), rec, nil)
	if err := closed.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := closed.Process(context.Background(), mustUpdate(t, "album_part3.json")); err != nil {
		t.Fatal(err)
	}
	closed.RunAlbums(context.Background()) // returns at once: closed
	sweepLater(other, 0)
	if got := summaries(rec); !reflect.DeepEqual(got, []string{"700000014 attachments album3_large"}) {
		t.Errorf("events %q", got)
	}
}

// An album kept past the store's TTL is dropped with an error log, once.
func TestAlbumDropped(t *testing.T) {
	prefix := redistest.Prefix(t)
	rec := newRecorder(t)
	logs := &logBuffer{}
	wh := newProcess(t, albumsAt(t, prefix), rec, logs)
	postAll(t, []*Webhook{wh}, "album_part1.json")
	now := time.Now().Add(wh.cfg.AlbumWindow + time.Second)
	albums, err := wh.cfg.Albums.Due(context.Background(), now, albumLease, 10)
	if err != nil || len(albums) != 1 {
		t.Fatalf("Due: %q, %v", albums, err)
	}
	redistest.Client(t).Del(context.Background(), albums[0]) // as the TTL would
	sweepLater(wh, albumLease)
	sweepLater(wh, 2*albumLease)
	if n := rec.handled(); n != 0 {
		t.Errorf("engine called %d times", n)
	}
	if n := strings.Count(logs.String(), "album dropped"); n != 1 {
		t.Errorf("%d drop lines, want 1:\n%s", n, logs.String())
	}
}

// A part that cannot be read is left out; the rest of the album goes on.
func TestAlbumUnreadablePart(t *testing.T) {
	albums := newAlbums(t)
	rec := newRecorder(t)
	logs := &logBuffer{}
	wh := newProcess(t, albums, rec, logs)
	postAll(t, []*Webhook{wh}, "album_part2.json")
	conv := bot.ConversationRef{Channel: bot.Telegram, ID: "987654321"}
	if err := albums.Add(context.Background(), conv, "13845712398475621", 700000011, []byte("{"), time.Now()); err != nil {
		t.Fatal(err)
	}
	sweepLater(wh, 0)
	sweepLater(wh, albumLease) // the unreadable part was marked done with the rest
	if got := summaries(rec); !reflect.DeepEqual(got, []string{"700000013 attachments album2_large"}) {
		t.Errorf("events %q", got)
	}
	if !strings.Contains(logs.String(), "album part unreadable") {
		t.Errorf("not logged:\n%s", logs.String())
	}
}

func TestMergeAlbum(t *testing.T) {
	photo := func(id int64, ref, caption string) albumPart {
		return albumPart{id, bot.Event{ID: strings.Repeat("x", int(id)), Kind: bot.EventAttachments, Text: caption,
			Attachments: []bot.Attachment{{Kind: bot.Photo, Ref: ref, Caption: caption}}}}
	}
	video := func(id int64) albumPart {
		return albumPart{id, bot.Event{ID: strings.Repeat("x", int(id)), Kind: bot.EventUnsupported, Unsupported: "video"}}
	}
	tests := []struct {
		name    string
		parts   []albumPart
		kind    bot.EventKind
		id      string
		refs    []string
		caption string
	}{
		{"photos in update order, captions joined", []albumPart{photo(3, "c", "third"), photo(1, "a", "first"), photo(2, "b", "")},
			bot.EventAttachments, "x", []string{"a", "b", "c"}, "first\nthird"},
		{"videos only: one unsupported event", []albumPart{video(2), video(1)}, bot.EventUnsupported, "x", nil, ""},
		{"mixed: the photos", []albumPart{video(1), photo(2, "b", "")}, bot.EventAttachments, "x", []string{"b"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev := mergeAlbum(tt.parts)
			var refs []string
			for _, a := range ev.Attachments {
				refs = append(refs, a.Ref)
			}
			if ev.Kind != tt.kind || ev.ID != tt.id || !reflect.DeepEqual(refs, tt.refs) || ev.Text != tt.caption {
				t.Errorf("merged: %s", dump(ev))
			}
			if ev.Kind == bot.EventAttachments && ev.Unsupported != "" {
				t.Errorf("attachments event still names %q", ev.Unsupported)
			}
		})
	}
}
