package broadcast

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	json "github.com/go-json-experiment/json/v1"

	"github.com/sangkien/sangkien/bot"
)

// Admin is `sangkien broadcast …`: what operators do with broadcasts from a terminal.
type Admin struct {
	Store AdminStore
	Out   io.Writer
	Now   func() time.Time
	Zone  *time.Location
	// Every is how often Show redraws its progress (1s).
	Every time.Duration
}

// AdminStore is what Admin reads and changes: redisstore.Store implements it.
type AdminStore interface {
	Store
	DropBroadcast(ctx context.Context, id string) (int64, error)
	AudienceCount(ctx context.Context, q bot.AudienceQuery) (int64, error)
}

// Send creates a broadcast to q with the texts, not before at (now when zero), and
// prints its id and how many citizens it reaches now.
func (a Admin) Send(ctx context.Context, q bot.AudienceQuery, text bot.Text, at time.Time) (bot.Broadcast, error) {
	now := a.now()
	if at.IsZero() {
		at = now
	}
	b := bot.Broadcast{ID: bot.NewBroadcastID(now, a.zone()), Audience: q, Text: text,
		At: at, Created: now, State: bot.BroadcastScheduled}
	if err := b.Validate(); err != nil {
		return b, err
	}
	reach, err := a.Store.AudienceCount(ctx, b.Recipients())
	if err != nil {
		return b, err
	}
	if err := a.Store.SaveBroadcast(ctx, b); err != nil {
		return b, err
	}
	fmt.Fprintf(a.Out, "%s\n", b.ID)
	fmt.Fprintf(a.Out, "about %d recipients; sending from %s\n", reach, at.In(a.zone()).Format("02/01/2006 15:04"))
	return b, nil
}

// List prints the latest broadcasts.
func (a Admin) List(ctx context.Context) error {
	bs, err := a.Store.Broadcasts(ctx, recent)
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(a.Out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "ID\tSTATE\tAUDIENCE\tAT\tQUEUED\tSENT\tFAILED\tSKIPPED")
	for _, b := range bs {
		p, err := a.Store.BroadcastProgress(ctx, b.ID)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%d\t%d\t%d\t%d\n", b.ID, b.State, audienceLabel(b.Audience),
			b.At.In(a.zone()).Format("02/01/2006 15:04"), p.Queued, p.Sent, p.Failed, p.SkippedAll())
	}
	return w.Flush()
}

func audienceLabel(q bot.AudienceQuery) string {
	s := string(q.Kind)
	if q.Program != "" {
		s += ":" + q.Program
	}
	if q.Channel != "" {
		s += " " + string(q.Channel)
	}
	if q.Lang != "" {
		s += " " + q.Lang
	}
	return s
}

// Show prints a broadcast's progress: once as JSON, or as a bar redrawn until every
// recipient was sent or failed (or the broadcast was cancelled, or ctx ends).
func (a Admin) Show(ctx context.Context, id string, asJSON bool) error {
	b, err := a.Store.Broadcast(ctx, id)
	if err != nil {
		return err
	}
	p, err := a.Store.BroadcastProgress(ctx, id)
	if err != nil {
		return err
	}
	if asJSON {
		enc := json.NewEncoder(a.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(struct {
			bot.Broadcast
			Progress bot.BroadcastProgress `json:"progress"`
		}{b, p})
	}
	fmt.Fprintf(a.Out, "%s  %s  from %s\n", b.ID, audienceLabel(b.Audience), b.At.In(a.zone()).Format("02/01/2006 15:04"))
	every := a.Every
	if every <= 0 {
		every = time.Second
	}
	last, lastAt := p.Done(), a.now()
	for {
		rate := 0.0
		if dt := a.now().Sub(lastAt).Seconds(); dt > 0 {
			rate = float64(p.Done()-last) / dt
		}
		fmt.Fprintf(a.Out, "\r%s", bar(b.State, p, rate))
		if p.Finished() || b.State == bot.BroadcastCancelled {
			fmt.Fprintln(a.Out)
			return nil
		}
		last, lastAt = p.Done(), a.now()
		select {
		case <-ctx.Done():
			fmt.Fprintln(a.Out)
			return nil
		case <-time.After(every):
		}
		if b, err = a.Store.Broadcast(ctx, id); err != nil {
			return err
		}
		if p, err = a.Store.BroadcastProgress(ctx, id); err != nil {
			return err
		}
	}
}

// bar draws one line of progress: done of queued, the rate and the time left.
func bar(state bot.BroadcastState, p bot.BroadcastProgress, rate float64) string {
	const width = 30
	done := p.Done()
	filled := 0
	if p.Queued > 0 {
		filled = int(int64(width) * min(done, p.Queued) / p.Queued)
	}
	left := ""
	if rate > 0 && p.Queued > done {
		left = fmt.Sprintf(", ~%s left", (time.Duration(float64(p.Queued-done)/rate) * time.Second).Round(time.Second))
	}
	return fmt.Sprintf("[%s%s] %d/%d sent (%d failed, %s), %s, %.0f/s%s  ", strings.Repeat("#", filled),
		strings.Repeat("-", width-filled), p.Sent, p.Queued, p.Failed, skipped(p), state, rate, left)
}

// skipLabels say in the CLI why recipients were skipped.
var skipLabels = map[string]string{
	bot.SkipStopped: "said stop", bot.SkipBlocked: "blocked the bot", bot.SkipUnfollowed: "unfollowed the OA",
	bot.SkipZaloWindow: "outside Zalo's window", bot.SkipErased: "erased their data",
}

// skipped counts the skipped recipients, by reason when there are any: "3 skipped: 2
// said stop, 1 blocked the bot".
func skipped(p bot.BroadcastProgress) string {
	s := fmt.Sprintf("%d skipped", p.SkippedAll())
	sep := ": "
	for _, r := range bot.SkipReasons() {
		if n := p.Skipped[r]; n > 0 {
			s += fmt.Sprintf("%s%d %s", sep, n, skipLabels[r])
			sep = ", "
		}
	}
	return s
}

// Cancel stops a broadcast: its fan-out ends, and what waits in the bulk lanes is taken
// out (a message a sender has already taken still goes).
func (a Admin) Cancel(ctx context.Context, id string) error {
	n, err := bot.CancelBroadcast(ctx, a.Store, id)
	if err != nil {
		return err
	}
	fmt.Fprintf(a.Out, "%s cancelled; %d messages taken out of the lanes unsent\n", id, n)
	return nil
}

func (a Admin) now() time.Time {
	if a.Now == nil {
		return time.Now()
	}
	return a.Now()
}

func (a Admin) zone() *time.Location {
	if a.Zone == nil {
		return bot.HoChiMinh()
	}
	return a.Zone
}
