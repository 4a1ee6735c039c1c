package telegram

import (
	"context"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/sangkien/sangkien/bot"
)

// albumTries and albumTimeout bound the engine calls for a gathered album: no Telegram
// redelivery stands behind it, so a passing failure is tried again here.
const (
	albumTries   = 3
	albumTimeout = 30 * time.Second
)

// albums gathers the parts of albums in memory until their window closes.
type albums struct {
	mu      sync.Mutex
	window  time.Duration
	pending map[string]*album
	closed  bool
	run     func(bot.Event)
	wg      *sync.WaitGroup // one count per pending album, done when it has run
}

type album struct {
	parts []albumPart
	timer *time.Timer
}

type albumPart struct {
	update int
	ev     bot.Event
}

// add gathers one part. The first part of an album starts its window.
func (a *albums) add(key string, update int, ev bot.Event) {
	a.mu.Lock()
	if a.closed { // shutting down: nothing will fire later, run the part alone
		a.wg.Add(1)
		a.mu.Unlock()
		a.finish([]albumPart{{update, ev}})
		return
	}
	al := a.pending[key]
	if al == nil {
		al = &album{}
		a.pending[key] = al
		a.wg.Add(1)
		al.timer = time.AfterFunc(a.window, func() { a.fire(key, al) })
	}
	for _, p := range al.parts {
		if p.update == update { // a part delivered twice inside the window
			a.mu.Unlock()
			return
		}
	}
	al.parts = append(al.parts, albumPart{update, ev})
	a.mu.Unlock()
}

// fire runs an album whose window closed, unless close already took it.
func (a *albums) fire(key string, al *album) {
	a.mu.Lock()
	if a.pending[key] != al {
		a.mu.Unlock()
		return
	}
	delete(a.pending, key)
	a.mu.Unlock()
	a.finish(al.parts)
}

// close runs every pending album now; later parts run alone.
func (a *albums) close() {
	a.mu.Lock()
	a.closed = true
	var flush [][]albumPart
	for key, al := range a.pending {
		al.timer.Stop()
		delete(a.pending, key)
		flush = append(flush, al.parts)
	}
	a.mu.Unlock()
	for _, parts := range flush {
		a.finish(parts)
	}
}

func (a *albums) finish(parts []albumPart) {
	defer a.wg.Done()
	a.run(mergeAlbum(parts))
}

// mergeAlbum makes one event of an album's parts, in update order: the first part's
// id, conversation and time, every file, the captions joined. An album of only
// unsupported parts (videos) stays the first part's unsupported event; unsupported parts
// of a mixed album are left out.
func mergeAlbum(parts []albumPart) bot.Event {
	sort.Slice(parts, func(i, j int) bool { return parts[i].update < parts[j].update })
	ev := parts[0].ev
	var files []bot.Attachment
	var captions []string
	for _, p := range parts {
		files = append(files, p.ev.Attachments...)
		if p.ev.Kind == bot.EventAttachments && strings.TrimSpace(p.ev.Text) != "" {
			captions = append(captions, p.ev.Text)
		}
	}
	if len(files) == 0 {
		return ev
	}
	ev.Kind, ev.Unsupported, ev.Attachments = bot.EventAttachments, "", files
	ev.Text = strings.Join(captions, "\n")
	return ev
}

// runAlbum hands a gathered album to the engine, trying again after a passing failure:
// its parts were already answered 200, so Telegram will not deliver them again.
func (w *Webhook) runAlbum(ev bot.Event) {
	ctx, cancel := context.WithTimeout(context.Background(), albumTimeout)
	defer cancel()
	wait := 100 * time.Millisecond
	for try := 1; ; try++ {
		_, err := w.cfg.Handler.Handle(ctx, ev)
		if err == nil {
			return
		}
		if try == albumTries || ctx.Err() != nil {
			w.log.Error("album lost: engine failed", "update", ev.ID,
				"conversation", maskChat(ev.Conversation.ID), "files", len(ev.Attachments), "err", err)
			return
		}
		select {
		case <-time.After(wait):
		case <-ctx.Done():
		}
		wait *= 4
	}
}
