package telegram

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	json "github.com/go-json-experiment/json/v1"

	"github.com/sangkien/sangkien/bot"
)

// AlbumStore keeps the parts of albums until a gateway process hands each album to the
// engine as one event. Every process on one Redis shares it, so parts received by
// different processes make one album, and an album outlives the process that received
// its parts. *redisstore.Albums implements it.
type AlbumStore interface {
	// Add stores one part of album group of conv under its id (the update_id), to be
	// due at ready or later: a later part moves the album to its own ready time. A
	// part whose id is stored already, waiting or handed over, is not stored again.
	Add(ctx context.Context, conv bot.ConversationRef, group string, part int64, data []byte, ready time.Time) error
	// Due claims up to n albums due at now, for lease: no other Due returns them before
	// now+lease, so an album whose claimer died is claimed again after that.
	Due(ctx context.Context, now time.Time, lease time.Duration, n int) ([]string, error)
	// Parts returns the album's parts not handed over yet, by id; found is false when the
	// album is gone (kept too long). Found with no parts: it was handed over already.
	Parts(ctx context.Context, album string) (parts map[int64][]byte, found bool, err error)
	// Done records that the engine took these parts. An album with parts left (arrived
	// while it was handed over) is due again at once.
	Done(ctx context.Context, album string, parts []int64) error
}

// The album sweeper. The lease must outlast an engine call for an album
// (albumHandleTimeout), so that two processes rarely hand one album over at once; when
// they do, the engine's dedupe on the event id runs it once, and the lease (fencing
// Done) lets only the last claimer mark it done. An album whose claimer was killed is
// handed over by another process one lease (15 s) later.
const (
	albumSweepEvery    = 250 * time.Millisecond
	albumLease         = 15 * time.Second
	albumHandleTimeout = 10 * time.Second
	albumBatch         = 32
)

// gather stores one part of an album. Returning nil means the part is stored: the
// webhook may answer 200, and whichever process sweeps first hands the album over.
func (w *Webhook) gather(ctx context.Context, update int64, group string, ev bot.Event) error {
	data, err := json.Marshal(ev)
	if err != nil {
		return fmt.Errorf("album part %d: %w", update, err)
	}
	ready := time.Now().Add(w.cfg.AlbumWindow)
	if err := w.cfg.Albums.Add(ctx, ev.Conversation, group, update, data, ready); err != nil {
		w.log.ErrorContext(ctx, "album part not stored; telegram will deliver it again",
			"update", update, "conversation", maskChat(ev.Conversation.ID), "err", err)
		return fmt.Errorf("album part %d: %w", update, err)
	}
	return nil
}

// RunAlbums hands due albums to the engine, every albumSweepEvery, until ctx ends or
// Close is called. Every gateway process runs it: each album is claimed by one of them
// for a lease, and claimed again by any of them if its claimer died before it was done.
func (w *Webhook) RunAlbums(ctx context.Context) {
	tick := time.NewTicker(albumSweepEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-w.stop:
			return
		case <-tick.C:
		}
		w.sweepAlbums(ctx, time.Now())
	}
}

// sweepAlbums claims the albums due at now and hands each to the engine.
func (w *Webhook) sweepAlbums(ctx context.Context, now time.Time) {
	albums, err := w.cfg.Albums.Due(ctx, now, albumLease, albumBatch)
	if err != nil && ctx.Err() == nil {
		w.log.Warn("claiming due albums failed", "err", err)
	}
	for _, album := range albums { // also those claimed before an error: they are ours
		w.handOver(ctx, album)
	}
}

// handOver runs one claimed album through the engine and marks its parts done. On any
// failure it leaves the album as it is: the lease ends and a sweeper claims it again.
// The engine call outlives ctx, so shutting down does not cut a hand-over in half.
func (w *Webhook) handOver(ctx context.Context, album string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), albumHandleTimeout)
	defer cancel()
	raw, found, err := w.cfg.Albums.Parts(ctx, album)
	if err != nil {
		w.log.Warn("album parts not read; tried again later", "retry_in", albumLease, "err", err)
		return
	}
	ids := make([]int64, 0, len(raw))
	parts := make([]albumPart, 0, len(raw))
	for id, data := range raw {
		ids = append(ids, id)
		var ev bot.Event
		if err := json.Unmarshal(data, &ev); err != nil {
			w.log.Error("album part unreadable, left out", "update", id, "err", err)
			continue
		}
		parts = append(parts, albumPart{id, ev})
	}
	if len(parts) == 0 {
		if !found {
			w.log.Error("album dropped: not handed over while it was kept")
		}
		w.albumDone(ctx, album, ids, "")
		return
	}
	ev := mergeAlbum(parts)
	out, err := w.cfg.Handler.Handle(ctx, ev)
	if err != nil {
		w.log.Error("album not handed over; tried again later", "update", ev.ID,
			"conversation", maskChat(ev.Conversation.ID), "files", len(ev.Attachments), "retry_in", albumLease, "err", err)
		return
	}
	if out.Duplicate { // a claimer that died after the engine took it, before Done
		w.log.Debug("album known to the engine already", "update", ev.ID)
	}
	w.albumDone(ctx, album, ids, ev.ID)
}

// albumDone marks parts handed over. Failing, the album is claimed again after the lease
// and the engine's dedupe acknowledges it then.
func (w *Webhook) albumDone(ctx context.Context, album string, ids []int64, update string) {
	if err := w.cfg.Albums.Done(ctx, album, ids); err != nil {
		w.log.Warn("album handed over, not marked done", "update", update, "err", err)
	}
}

// albumPart is one update of an album, as parsed.
type albumPart struct {
	update int64
	ev     bot.Event
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
