package telegram

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sangkien/sangkien/bot"
)

// An album's window closing hands it to the engine without Close.
func TestAlbumWindowCloses(t *testing.T) {
	rec := newRecorder()
	wh, err := NewWebhook(Config{Secret: testSecret, Handler: rec, AlbumWindow: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if err := wh.Process(context.Background(), mustUpdate(t, "album_part1.json")); err != nil {
		t.Fatal(err)
	}
	<-rec.done // the timer ran the album
	got := rec.got()
	if len(got) != 1 || got[0].ID != "700000012" || got[0].Text != "Vỉa hè bị lấn chiếm" || len(got[0].Attachments) != 1 {
		t.Errorf("album events: %s", dump(got))
	}
	if err := wh.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// Parts arriving after Close run alone rather than wait for a timer nobody keeps.
func TestAlbumPartAfterClose(t *testing.T) {
	rec := newRecorder()
	wh, err := NewWebhook(Config{Secret: testSecret, Handler: rec, AlbumWindow: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if err := wh.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := wh.Process(context.Background(), mustUpdate(t, "album_part3.json")); err != nil {
		t.Fatal(err)
	}
	if got := rec.got(); len(got) != 1 || got[0].ID != "700000014" {
		t.Errorf("events: %s", dump(got))
	}
}

func TestMergeAlbum(t *testing.T) {
	photo := func(id int, ref, caption string) albumPart {
		return albumPart{id, bot.Event{ID: strings.Repeat("x", id), Kind: bot.EventAttachments, Text: caption,
			Attachments: []bot.Attachment{{Kind: bot.Photo, Ref: ref, Caption: caption}}}}
	}
	video := func(id int) albumPart {
		return albumPart{id, bot.Event{ID: strings.Repeat("x", id), Kind: bot.EventUnsupported, Unsupported: "video"}}
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

// flaky fails its first n calls.
type flaky struct {
	mu    sync.Mutex
	n     int
	calls int
}

func (f *flaky) Handle(context.Context, bot.Event) (bot.Outcome, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if f.calls <= f.n {
		return bot.Outcome{}, errors.New("redis: i/o timeout")
	}
	return bot.Outcome{}, nil
}

// No redelivery stands behind a gathered album: a passing engine failure is tried again.
func TestAlbumRetries(t *testing.T) {
	tests := []struct {
		name      string
		failures  int
		wantCalls int
		lost      bool
	}{
		{"passing failure", 1, 2, false},
		{"lasting failure", 99, albumTries, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := &flaky{n: tt.failures}
			logs := &logBuffer{}
			wh, err := NewWebhook(Config{Secret: testSecret, Handler: h, Logger: logs.logger(), AlbumWindow: time.Hour})
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range []string{"album_part1.json", "album_part2.json"} {
				if err := wh.Process(context.Background(), mustUpdate(t, f)); err != nil {
					t.Fatal(err)
				}
			}
			if err := wh.Close(context.Background()); err != nil {
				t.Fatal(err)
			}
			if h.calls != tt.wantCalls {
				t.Errorf("engine called %d times, want %d", h.calls, tt.wantCalls)
			}
			if lost := strings.Contains(logs.String(), "album lost"); lost != tt.lost {
				t.Errorf("album lost logged: %t, want %t\n%s", lost, tt.lost, logs.String())
			}
		})
	}
}
