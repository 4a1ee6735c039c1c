package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"mime"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sangkien/sangkien/bot"
)

// drainTimeout bounds how long chat waits at the end for its submissions to reach the
// intake file.
const drainTimeout = 3 * time.Second

// chat runs a citizen's conversation in the terminal against the same engine, flows and
// Redis as serve, with the outbox worker writing submissions to the intake file.
func chat(ctx context.Context, args []string, env func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("chat", flag.ContinueOnError)
	lang := fs.String("lang", "", "the citizen's language hint: vi or en (default: Vietnamese)")
	id := fs.String("id", "local", "conversation id: the same id continues the same conversation")
	usage := func(w io.Writer) {
		fmt.Fprint(w, `Usage: sangkien chat [--lang en] [--id ID]

Talks to the bot in this terminal as a citizen would on a messaging channel. Buttons
are shown as numbered choices: answer with the number or the label. Lines starting
with / are commands (/start, /help, /cancel, /language, …). Special inputs:
  :location <lat> <lon>     share a location
  :contact <name> <phone>   share your contact card
  :photo <path>             send a photo;  :file <path>  send a document
  :quit (or end of input)   leave
Confirmed submissions are written to INTAKE_FILE by the outbox worker.

Options:
  --lang vi|en   the citizen's language hint (default: Vietnamese)
  --id ID        conversation id (default local); the same id resumes the conversation

`)
		writeEnvHelp(w)
	}
	if done, err := parseFlags(fs, args, stdout, usage); done {
		return err
	}
	if *lang != "" && *lang != "vi" && *lang != "en" {
		return fmt.Errorf("chat: --lang %q: want vi or en", *lang)
	}
	conv := bot.ConversationRef{Channel: bot.Terminal, ID: *id}
	if err := conv.Validate(); err != nil {
		return fmt.Errorf("chat: --id: %w", err)
	}
	if env("LOG_LEVEL") == "" {
		// The terminal is the conversation: only warnings interrupt it.
		env = withDefault(env, "LOG_LEVEL", "warn")
	}
	cfg, err := loadConfig(env)
	if err != nil {
		return err
	}
	cfg.IntakeKind = "file" // the terminal is for trials: it never posts to the city
	log := newLogger(stderr, cfg.LogLevel)
	g, err := newGateway(cfg, log, bot.Terminal)
	if err != nil {
		return err
	}
	defer func() {
		if err := g.Close(); err != nil {
			log.Error("close", "err", err)
		}
	}()

	pctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	err = g.store.Ping(pctx)
	cancel()
	if err != nil {
		return fmt.Errorf("REDIS_URL: Redis does not answer: %w", err)
	}

	sink := &watchedIntake{Intake: g.sink, done: map[string]bool{}, changed: make(chan struct{}, 1)}
	w := g.worker(sink)
	w.Block = 250 * time.Millisecond // a short poll keeps the exit prompt
	workerCtx, stopWorker := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	wg.Go(func() { _ = w.Run(workerCtx) })
	defer func() {
		stopWorker()
		wg.Wait()
	}()

	t := &terminal{engine: g.engine, conv: conv, lang: *lang, out: stdout}
	t.banner(g.sink.Path())
	if err := t.send(ctx, bot.Event{Kind: bot.EventCommand, Command: "start"}); err != nil {
		return err
	}
	if err := t.loop(ctx, stdin); err != nil {
		return err
	}
	if n := sink.wait(ctx, t.submitted, drainTimeout); n > 0 {
		fmt.Fprintf(stdout, "\n[%d bài gửi đã ghi vào / submission(s) written to %s]\n", n, g.sink.Path())
	} else if len(t.submitted) > 0 {
		fmt.Fprintf(stdout, "\n[submissions not yet written; they stay in the outbox: %s]\n",
			strings.Join(t.submitted, ", "))
	}
	return nil
}

// terminal turns typed lines into events and draws replies as text.
type terminal struct {
	engine    *bot.Engine
	conv      bot.ConversationRef
	lang      string
	out       io.Writer
	n         int
	submitted []string // submission ids confirmed in this chat
}

func (t *terminal) banner(intakeFile string) {
	fmt.Fprintf(t.out, `Sáng kiến — trò chuyện thử trong terminal / terminal chat
  Trả lời bằng số hoặc nội dung lựa chọn / answer with a choice's number or label
  /lệnh: /start /help /cancel /language …      /commands
  :location <vĩ độ/lat> <kinh độ/lon>   :contact <tên/name> <số điện thoại/phone>
  :photo <tệp/path>   :file <tệp/path>   :quit
  Bài gửi được ghi vào / submissions go to: %s

`, intakeFile)
}

// loop reads lines until :quit, the end of input or ctx's end.
func (t *terminal) loop(ctx context.Context, stdin io.Reader) error {
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stdin)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			case <-ctx.Done():
				return
			}
		}
	}()
	for {
		fmt.Fprint(t.out, "> ")
		var line string
		var ok bool
		select {
		case <-ctx.Done():
			fmt.Fprintln(t.out)
			return nil
		case line, ok = <-lines:
		}
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
		ev, err := parseLine(line)
		if err != nil {
			fmt.Fprintf(t.out, "  (%v)\n", err)
			continue
		}
		if err := t.send(ctx, ev); err != nil {
			return err
		}
	}
}

// send runs one event and prints the replies.
func (t *terminal) send(ctx context.Context, ev bot.Event) error {
	t.n++
	ev.ID = fmt.Sprintf("term-%d-%d", time.Now().UnixNano(), t.n)
	ev.Conversation = t.conv
	ev.Lang = t.lang
	out, err := t.engine.Handle(ctx, ev)
	if err != nil {
		return fmt.Errorf("chat: %w", err)
	}
	for _, o := range out.Replies {
		printReply(t.out, o.Reply)
	}
	if out.Submission != nil {
		t.submitted = append(t.submitted, out.Submission.ID)
	}
	return nil
}

// printReply draws a reply: its text, then its choices as numbered lines.
func printReply(w io.Writer, r bot.Reply) {
	fmt.Fprintln(w)
	for i, l := range strings.Split(strings.TrimRight(r.Text, "\n"), "\n") {
		switch {
		case i == 0:
			fmt.Fprintln(w, "🤖 "+l)
		case l == "":
			fmt.Fprintln(w)
		default:
			fmt.Fprintln(w, "   "+l)
		}
	}
	for i, c := range r.Choices {
		fmt.Fprintf(w, "  %d. %s\n", i+1, c.Label)
	}
	switch r.Request {
	case bot.RequestContact:
		fmt.Fprintln(w, "  [:contact <tên/name> <số/phone>]")
	case bot.RequestLocation:
		fmt.Fprintln(w, "  [:location <lat> <lon>]")
	}
}

// parseLine turns one typed line into an event (without id and conversation).
func parseLine(line string) (bot.Event, error) {
	if cmd, ok := strings.CutPrefix(line, "/"); ok {
		name, payload, _ := strings.Cut(cmd, " ")
		return bot.Event{Kind: bot.EventCommand, Command: name, Payload: strings.TrimSpace(payload)}, nil
	}
	if !strings.HasPrefix(line, ":") {
		return bot.Event{Kind: bot.EventText, Text: line}, nil
	}
	word, rest, _ := strings.Cut(line, " ")
	rest = strings.TrimSpace(rest)
	switch word {
	case ":location":
		return parseLocation(rest)
	case ":contact":
		return parseContact(rest)
	case ":photo":
		return attachment(bot.Photo, rest)
	case ":file":
		return attachment(bot.Document, rest)
	default:
		return bot.Event{}, fmt.Errorf("unknown input %s: use :location, :contact, :photo, :file or :quit", word)
	}
}

func parseLocation(rest string) (bot.Event, error) {
	f := strings.Fields(rest)
	if len(f) < 2 {
		return bot.Event{}, fmt.Errorf("usage: :location <lat> <lon> [label]")
	}
	lat, err1 := strconv.ParseFloat(f[0], 64)
	lon, err2 := strconv.ParseFloat(f[1], 64)
	if err1 != nil || err2 != nil || lat < -90 || lat > 90 || lon < -180 || lon > 180 {
		return bot.Event{}, fmt.Errorf("usage: :location <lat> <lon>, e.g. :location 21.0285 105.8542")
	}
	return bot.Event{Kind: bot.EventLocation, Location: &bot.Location{
		Lat: lat, Lon: lon, Label: strings.Join(f[2:], " "),
	}}, nil
}

// parseContact reads "<name> <phone>": the phone starts at the first word that starts
// with a digit or "+", so both may hold spaces ("Nguyễn Văn An 0912 345 678").
func parseContact(rest string) (bot.Event, error) {
	f := strings.Fields(rest)
	i := slices.IndexFunc(f, func(w string) bool { return w[0] == '+' || (w[0] >= '0' && w[0] <= '9') })
	if i < 0 {
		return bot.Event{}, fmt.Errorf("usage: :contact <name> <phone>, e.g. :contact Nguyễn Văn An 0912345678")
	}
	return bot.Event{Kind: bot.EventContact, Contact: &bot.Contact{
		Name: strings.Join(f[:i], " "), Phone: strings.Join(f[i:], " "), Own: true,
	}}, nil
}

// attachment reads a local file's size and type, as a channel would report them; the
// file itself stays where it is and Ref points at it.
func attachment(kind bot.AttachmentKind, path string) (bot.Event, error) {
	if path == "" {
		return bot.Event{}, fmt.Errorf("usage: :%s <path>", map[bot.AttachmentKind]string{bot.Photo: "photo", bot.Document: "file"}[kind])
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return bot.Event{}, err
	}
	info, err := os.Stat(abs)
	if err != nil {
		return bot.Event{}, fmt.Errorf("cannot read %s: %w", path, err)
	}
	if info.IsDir() {
		return bot.Event{}, fmt.Errorf("%s is a folder", path)
	}
	return bot.Event{Kind: bot.EventAttachments, Attachments: []bot.Attachment{{
		Kind: kind,
		Ref:  "file:" + abs,
		MIME: mimeOf(abs),
		Size: info.Size(),
		Name: filepath.Base(abs),
	}}}, nil
}

// officeTypes are the document types citizens send most, which the system's MIME table
// may lack.
var officeTypes = map[string]string{
	".jpg":  "image/jpeg",
	".jpeg": "image/jpeg",
	".png":  "image/png",
	".webp": "image/webp",
	".heic": "image/heic",
	".pdf":  "application/pdf",
	".doc":  "application/msword",
	".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
	".xls":  "application/vnd.ms-excel",
	".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}

func mimeOf(path string) string {
	ext := strings.ToLower(filepath.Ext(path))
	if t, ok := officeTypes[ext]; ok {
		return t
	}
	if t := mime.TypeByExtension(ext); t != "" {
		if m, _, err := mime.ParseMediaType(t); err == nil {
			return m
		}
	}
	return "application/octet-stream"
}

// watchedIntake tells chat which submissions reached the intake, so that it can wait
// for them before it exits.
type watchedIntake struct {
	bot.Intake
	mu      sync.Mutex
	done    map[string]bool
	changed chan struct{}
}

func (w *watchedIntake) Deliver(ctx context.Context, s bot.Submission) (bot.Receipt, error) {
	r, err := w.Intake.Deliver(ctx, s)
	if err == nil {
		w.mu.Lock()
		w.done[s.ID] = true
		w.mu.Unlock()
		select {
		case w.changed <- struct{}{}:
		default:
		}
	}
	return r, err
}

// wait waits up to timeout for every id to be delivered and returns how many were.
func (w *watchedIntake) wait(ctx context.Context, ids []string, timeout time.Duration) int {
	bound := time.NewTimer(timeout)
	defer bound.Stop()
	for {
		w.mu.Lock()
		n := 0
		for _, id := range ids {
			if w.done[id] {
				n++
			}
		}
		w.mu.Unlock()
		if n == len(ids) {
			return n
		}
		select {
		case <-w.changed:
		case <-bound.C:
			return n
		case <-ctx.Done():
			return n
		}
	}
}

// withDefault returns env with name defaulting to value.
func withDefault(env func(string) string, name, value string) func(string) string {
	return func(k string) string {
		if v := env(k); v != "" || k != name {
			return v
		}
		return value
	}
}
