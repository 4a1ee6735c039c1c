package terminal

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/sangkien/sangkien/bot"
	"github.com/sangkien/sangkien/locales"
)

// Help says how a citizen talks in the terminal, for a command line's --help.
const Help = `Talks to the bot in this terminal as a citizen would on a messaging channel. Buttons
are shown as numbered choices: answer with the number or the label. Lines starting
with / are commands (/start, /help, /cancel, /language, …). Special inputs:
  :location <lat> <lon>     share a location
  :contact <name> <phone>   share your contact card
  :photo <path>             send a photo;  :file <path>  send a document
  :quit (or end of input)   leave
`

// Engine runs an event through the conversation and answers with its outcome.
// bot.Engine implements it.
type Engine interface {
	Handle(ctx context.Context, ev bot.Event) (bot.Outcome, error)
}

// News hands over the replies queued for a conversation while nobody was at the
// terminal (a status change of a submission), removing them: bot/redisstore.Store
// implements it.
type News interface {
	TakeQueued(ctx context.Context, conv bot.ConversationRef) ([]bot.Outbound, error)
}

// newsEvery is how often a chat looks for news while it waits for a line.
const newsEvery = time.Second

// Config configures a Terminal.
type Config struct {
	Engine Engine
	// News, when set, is where the chat finds what came for the conversation while the
	// citizen was away: shown at the start, and while the chat waits for a line.
	News News
	// ID names the conversation: the same id continues the same conversation.
	ID string
	// Lang is the citizen's language hint: "vi", "en", or "" (Vietnamese).
	Lang string
	Out  io.Writer
	// Catalog holds the terminal's own texts (banner, hints, errors), shown in the
	// citizen's language.
	Catalog *locales.Catalog
}

// Terminal turns typed lines into events and draws replies as text.
type Terminal struct {
	engine Engine
	news   News
	conv   bot.ConversationRef
	lang   string // the hint sent with every event
	cat    *locales.Catalog
	// shown is the citizen's language as the bot last answered in it (the hint until
	// then): the terminal's own lines follow it, so /language switches them too.
	shown     string
	out       io.Writer
	n         int
	submitted []string // submission ids confirmed in this chat
}

// Check reports what is wrong with the conversation id and language, naming the flag
// (--id, --lang) to fix, so that a command can refuse them before it starts anything.
func (c Config) Check() error {
	if c.Lang != "" && c.Lang != "vi" && c.Lang != "en" {
		return fmt.Errorf("--lang %q: want vi or en", c.Lang)
	}
	if err := c.conversation().Validate(); err != nil {
		return fmt.Errorf("--id: %w", err)
	}
	return nil
}

func (c Config) conversation() bot.ConversationRef {
	return bot.ConversationRef{Channel: bot.Terminal, ID: c.ID}
}

// New checks cfg and returns a terminal.
func New(cfg Config) (*Terminal, error) {
	if err := cfg.Check(); err != nil {
		return nil, err
	}
	if cfg.Engine == nil || cfg.Out == nil || cfg.Catalog == nil {
		return nil, errors.New("terminal: engine, output and catalog are required")
	}
	return &Terminal{
		engine: cfg.Engine, news: cfg.News, conv: cfg.conversation(), lang: cfg.Lang, cat: cfg.Catalog,
		shown: locales.Normalize(cfg.Lang), out: cfg.Out,
	}, nil
}

// Chat prints the banner, starts the conversation as /start would and reads lines from
// in until :quit, the end of input or ctx's end.
func (t *Terminal) Chat(ctx context.Context, in io.Reader, intakeFile string) error {
	t.banner(intakeFile)
	if err := t.send(ctx, bot.Event{Kind: bot.EventCommand, Command: "start"}); err != nil {
		return err
	}
	t.showNews(ctx)
	return t.loop(ctx, in)
}

// showNews draws what came for the conversation while the citizen was away.
func (t *Terminal) showNews(ctx context.Context) {
	if t.news == nil {
		return
	}
	news, err := t.news.TakeQueued(ctx, t.conv)
	if err != nil {
		return // shown next time: the news stays queued
	}
	for _, o := range news {
		Draw(t.out, o.Reply, t.cat.For(o.Lang))
	}
}

// Submitted returns the ids of the submissions confirmed in this chat.
func (t *Terminal) Submitted() []string { return t.submitted }

// Finish waits up to timeout for this chat's submissions to reach the intake file and
// says where they are.
func (t *Terminal) Finish(ctx context.Context, w *WatchedIntake, intakeFile string, timeout time.Duration) {
	if n := w.Wait(ctx, t.submitted, timeout); n > 0 {
		fmt.Fprintf(t.out, "\n%s\n", t.l().T("terminal.written", map[string]any{"Count": n, "File": intakeFile}))
	} else if len(t.submitted) > 0 {
		fmt.Fprintf(t.out, "\n%s\n", t.l().T("terminal.not_written", map[string]any{"IDs": strings.Join(t.submitted, ", ")}))
	}
}

// l renders the terminal's own texts in the citizen's language.
func (t *Terminal) l() *locales.Localizer { return t.cat.For(t.shown) }

func (t *Terminal) banner(intakeFile string) {
	fmt.Fprintf(t.out, "%s\n\n", t.l().T("terminal.banner", map[string]any{"File": intakeFile}))
}

// loop reads lines until :quit, the end of input or ctx's end.
func (t *Terminal) loop(ctx context.Context, in io.Reader) error {
	lines := readLines(ctx, in)
	tick := time.NewTicker(newsEvery)
	defer tick.Stop()
	for {
		fmt.Fprint(t.out, "> ")
		line, ok := t.next(ctx, lines, tick.C)
		if !ok {
			fmt.Fprintln(t.out)
			return nil
		}
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		if line == ":quit" {
			return nil
		}
		ev, err := ParseLine(line)
		if err != nil {
			fmt.Fprintf(t.out, "  (%s)\n", t.explain(err))
			continue
		}
		if err := t.send(ctx, ev); err != nil {
			return err
		}
	}
}

// next waits for the next line, showing news meanwhile. It reports false at the end
// of input or ctx's end.
func (t *Terminal) next(ctx context.Context, lines <-chan string, tick <-chan time.Time) (string, bool) {
	for {
		select {
		case <-ctx.Done():
			return "", false
		case <-tick:
			t.showNews(ctx)
		case line, ok := <-lines:
			return line, ok
		}
	}
}

// readLines reads in line by line on a goroutine of its own, so that the loop can stop
// at ctx's end while a read blocks.
func readLines(ctx context.Context, in io.Reader) <-chan string {
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(in)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			case <-ctx.Done():
				return
			}
		}
	}()
	return lines
}

// send runs one event and prints the replies.
func (t *Terminal) send(ctx context.Context, ev bot.Event) error {
	t.n++
	ev.ID = fmt.Sprintf("term-%d-%d", time.Now().UnixNano(), t.n)
	ev.Conversation = t.conv
	ev.Lang = t.lang
	out, err := t.engine.Handle(ctx, ev)
	if err != nil {
		return fmt.Errorf("chat: %w", err)
	}
	for _, o := range out.Replies {
		if o.Lang != "" {
			t.shown = locales.Normalize(o.Lang)
		}
		Draw(t.out, o.Reply, t.l())
	}
	if out.Submission != nil {
		t.submitted = append(t.submitted, out.Submission.ID)
	}
	return nil
}

// explain renders a line ParseLine refused, in the citizen's language.
func (t *Terminal) explain(err error) string {
	var ie *InputError
	if errors.As(err, &ie) {
		return t.l().T(ie.ID, ie.Data)
	}
	return err.Error()
}
