package redisstore_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	sangkien "github.com/sangkien/sangkien"
	"github.com/sangkien/sangkien/bot"
	"github.com/sangkien/sangkien/bot/redisstore"
	"github.com/sangkien/sangkien/bot/redisstore/redistest"
	"github.com/sangkien/sangkien/flows"
	"github.com/sangkien/sangkien/locales"
	"github.com/sangkien/sangkien/programs"
)

// town is the real engine and flows on a real Redis, with a clock a test moves.
type town struct {
	t      *testing.T
	c      redis.UniversalClient
	prefix string
	st     *redisstore.Store
	engine *bot.Engine
	mu     sync.Mutex
	now    time.Time
	seq    int
}

func newTown(t *testing.T) *town {
	t.Helper()
	w := &town{t: t, c: redistest.Client(t), prefix: redistest.Prefix(t),
		now: time.Date(2026, 12, 1, 9, 0, 0, 0, bot.HoChiMinh())}
	clock := func() time.Time {
		w.mu.Lock()
		defer w.mu.Unlock()
		return w.now
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	w.st = redisstore.New(w.c, redisstore.Options{Prefix: w.prefix, Logger: quiet})
	cat, err := locales.New()
	if err != nil {
		t.Fatal(err)
	}
	progs, err := programs.Load(bytes.NewReader(sangkien.DefaultPrograms))
	if err != nil {
		t.Fatal(err)
	}
	router, err := flows.NewRouter(flows.Config{Programs: progs, Catalog: cat, Refs: w.st, Now: clock, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	if w.engine, err = bot.NewEngine(bot.EngineConfig{Store: w.st, Conversation: router, Now: clock}); err != nil {
		t.Fatal(err)
	}
	return w
}

// tick moves the clock on.
func (w *town) tick(d time.Duration) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.now = w.now.Add(d)
}

// send runs one event from conv and returns its id.
func (w *town) send(conv bot.ConversationRef, ev bot.Event) string {
	w.t.Helper()
	w.seq++
	ev.ID = "e" + strconv.Itoa(w.seq)
	ev.Conversation = conv
	if _, err := w.engine.Handle(context.Background(), ev); err != nil {
		w.t.Fatalf("event %s (%s %q %q): %v", ev.ID, ev.Kind, ev.Text, ev.Payload, err)
	}
	return ev.ID
}

func (w *town) say(conv bot.ConversationRef, text string) {
	w.t.Helper()
	w.send(conv, bot.Event{Kind: bot.EventText, Text: text})
}

func (w *town) press(conv bot.ConversationRef, payload string) {
	w.t.Helper()
	w.send(conv, bot.Event{Kind: bot.EventButton, Payload: payload})
}

// walk reads q in every shard, pages of n, and returns what it read in order.
func (w *town) walk(q bot.AudienceQuery, n int) []bot.AudienceMember {
	w.t.Helper()
	var out []bot.AudienceMember
	for sh := range redisstore.Shards {
		cursor := ""
		for {
			page, next, err := w.st.Audience(context.Background(), sh, q, cursor, n)
			if err != nil {
				w.t.Fatalf("audience %+v shard %d: %v", q, sh, err)
			}
			out = append(out, page...)
			if next == "" {
				break
			}
			cursor = next
		}
	}
	return out
}

// keysOf are the members' conversation keys, sorted.
func keysOf(ms []bot.AudienceMember) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.Conversation.Key()
	}
	slices.Sort(out)
	return out
}

// indexes is every audience index of the test with its members and scores.
func (w *town) indexes() map[string]map[string]float64 {
	w.t.Helper()
	ctx := context.Background()
	out := map[string]map[string]float64{}
	keys, err := redistest.Keys(ctx, w.c, w.prefix+":*:aud:*")
	if err != nil {
		w.t.Fatal(err)
	}
	for _, k := range keys {
		zs, err := w.c.ZRangeWithScores(ctx, k, 0, -1).Result()
		if err != nil {
			w.t.Fatal(err)
		}
		m := map[string]float64{}
		for _, z := range zs {
			m[z.Member.(string)] = z.Score
		}
		out[k] = m
	}
	return out
}

func sameIndexes(a, b map[string]map[string]float64) bool {
	return maps.EqualFunc(a, b, func(x, y map[string]float64) bool { return maps.Equal(x, y) })
}

const green = "thu-do-xanh-2027"

// TestAudienceFollowsTheCitizen walks a citizen through a draft, a submission, stop,
// subscribe, a block and forget, and reads the audiences after each.
func TestAudienceFollowsTheCitizen(t *testing.T) {
	w := newTown(t)
	lan := bot.ConversationRef{Channel: bot.Telegram, ID: "1001"}
	other := bot.ConversationRef{Channel: bot.Zalo, ID: "2002"} // stays put throughout
	w.send(other, bot.Event{Kind: bot.EventCommand, Command: "start", Lang: "en"})

	audiences := []bot.AudienceQuery{
		{Kind: bot.AudienceAll}, {Kind: bot.AudienceSubscribed},
		{Kind: bot.AudienceProgram, Program: green}, {Kind: bot.AudienceDraft, Program: green},
	}
	expect := func(step string, want ...bool) {
		t.Helper()
		for i, q := range audiences {
			got := slices.Contains(keysOf(w.walk(q, 10)), lan.Key())
			if got != want[i] {
				t.Errorf("%s: in %s %s = %v, want %v", step, q.Kind, q.Program, got, want[i])
			}
		}
		if got := keysOf(w.walk(bot.AudienceQuery{Kind: bot.AudienceSubscribed, Lang: "en"}, 10)); !slices.Equal(got, []string{other.Key()}) {
			t.Errorf("%s: subscribed in English = %v, want the other citizen alone", step, got)
		}
	}

	w.send(lan, bot.Event{Kind: bot.EventCommand, Command: "start"})
	expect("after /start", true, true, false, false)
	w.press(lan, "cmd:initiative")
	w.press(lan, "agree")
	expect("before a program", true, true, false, false)
	w.press(lan, "program:"+green)
	expect("a draft in the program", true, true, true, true)

	// Ordinary messages and a repeated event move nothing: no index written.
	before := w.indexes()
	w.tick(time.Minute)
	w.press(lan, "field:khong-khi")
	w.say(lan, "Trồng thêm cây xanh trên phố Nguyễn Trãi")
	id := w.send(lan, bot.Event{Kind: bot.EventText, Text: "Phố Nguyễn Trãi nắng gắt và bụi; đề xuất trồng hai hàng cây bóng mát dọc vỉa hè, có hệ thống tưới nhỏ giọt."})
	out, err := w.engine.Handle(context.Background(), bot.Event{ID: id, Conversation: lan, Kind: bot.EventText, Text: "again"})
	if err != nil || !out.Duplicate {
		t.Fatalf("the repeated event: %+v, %v; want a duplicate", out, err)
	}
	if after := w.indexes(); !sameIndexes(before, after) {
		t.Errorf("ordinary messages changed the indexes:\nbefore %v\nafter  %v", before, after)
	}

	w.press(lan, "done")
	w.say(lan, "Phố mát hơn, không khí sạch hơn cho người đi bộ.")
	w.press(lan, "skip") // location
	w.press(lan, "skip") // attachments
	w.say(lan, "Nguyễn Thị Lan")
	w.say(lan, "0912 345 678")
	w.press(lan, "skip") // email
	w.press(lan, "submit")
	if sess, err := w.st.Session(context.Background(), lan); err != nil || len(sess.Profile.Submissions) != 1 {
		t.Fatalf("after submit: %+v, %v; want one submission", sess, err)
	}
	expect("submitted", true, true, true, false)

	w.say(lan, "dừng")
	expect("said stop", true, false, false, false)
	w.say(lan, "đăng ký nhận tin")
	expect("subscribed again", true, true, true, false)

	w.send(lan, bot.Event{Kind: bot.EventUnfollow})
	expect("blocked the bot", false, false, false, false)
	w.send(lan, bot.Event{Kind: bot.EventFollow})
	expect("came back", true, true, true, false)

	// English: she leaves the Vietnamese indexes for the English ones.
	w.press(lan, "lang:en")
	inProgram := bot.AudienceQuery{Kind: bot.AudienceProgram, Program: green, Channel: bot.Telegram}
	for lang, want := range map[string][]string{"vi": nil, "en": {lan.Key()}} {
		inProgram.Lang = lang
		if got := keysOf(w.walk(inProgram, 10)); !slices.Equal(got, want) {
			t.Errorf("after choosing English, the program's %s audience = %v, want %v", lang, got, want)
		}
	}
	w.press(lan, "lang:vi")

	// A draft in the program again, then forget: every index is left.
	w.press(lan, "cmd:initiative")
	w.press(lan, "program:"+green)
	expect("a second draft", true, true, true, true)
	w.say(lan, "xoá dữ liệu của tôi")
	w.press(lan, "forget:yes")
	expect("forgotten", false, false, false, false)
	for key, members := range w.indexes() {
		if _, ok := members[lan.Key()]; ok {
			t.Errorf("after forget, %s still holds the citizen", key)
		}
	}
}

// TestAudiencePages puts 1,000 citizens on two channels in two languages (many joined
// in the same millisecond) and walks them in small pages: each once, filters exact, and
// a walk stopped half-way resumes from its cursor in another store while citizens keep
// writing, still each once.
func TestAudiencePages(t *testing.T) {
	w := newTown(t)
	want := map[string]string{} // conversation key → language
	for i := range 1000 {
		ch, lang := bot.Telegram, "vi"
		if i%2 == 1 {
			ch = bot.Zalo
		}
		if i%3 == 0 {
			lang = "en"
		}
		conv := bot.ConversationRef{Channel: ch, ID: strconv.Itoa(10000 + i)}
		w.send(conv, bot.Event{Kind: bot.EventCommand, Command: "start", Lang: lang})
		want[conv.Key()] = lang
		if i%500 == 499 {
			w.tick(time.Millisecond)
		}
	}

	all := w.walk(bot.AudienceQuery{Kind: bot.AudienceAll}, 7)
	if len(all) != len(want) {
		t.Errorf("walked %d members, want %d", len(all), len(want))
	}
	seen := map[string]bool{}
	for _, m := range all {
		k := m.Conversation.Key()
		if seen[k] {
			t.Errorf("%s read twice", k)
		}
		seen[k] = true
		if want[k] != m.Lang {
			t.Errorf("%s: language %q, want %q", k, m.Lang, want[k])
		}
	}

	ctx := context.Background()
	for _, q := range []bot.AudienceQuery{
		{Kind: bot.AudienceSubscribed, Channel: bot.Zalo, Lang: "en"},
		{Kind: bot.AudienceSubscribed, Channel: bot.Telegram},
		{Kind: bot.AudienceAll, Lang: "vi"},
	} {
		var exp []string
		for k, lang := range want {
			ref, _ := bot.ParseConversationKey(k)
			if (q.Channel == "" || ref.Channel == q.Channel) && (q.Lang == "" || lang == q.Lang) {
				exp = append(exp, k)
			}
		}
		slices.Sort(exp)
		if got := keysOf(w.walk(q, 5)); !slices.Equal(got, exp) {
			t.Errorf("%+v: walked %d members, want %d", q, len(got), len(exp))
		}
		if n, err := w.st.AudienceCount(ctx, q); err != nil || n != int64(len(exp)) {
			t.Errorf("%+v: count %d, %v; want %d", q, n, err, len(exp))
		}
	}

	// Half of each shard's walk, then a "crash": the cursors are kept, a new store
	// resumes. Meanwhile every citizen writes again, and one session expires.
	q := bot.AudienceQuery{Kind: bot.AudienceSubscribed}
	got := map[string]int{}
	cursors := make([]string, redisstore.Shards)
	for sh := range redisstore.Shards {
		for range 2 {
			page, next, err := w.st.Audience(ctx, sh, q, cursors[sh], 4)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range page {
				got[m.Conversation.Key()]++
			}
			cursors[sh] = next
		}
	}
	w.tick(time.Hour)
	var gone string
	for k := range want {
		ref, _ := bot.ParseConversationKey(k)
		if got[k] == 0 && gone == "" {
			gone = k
			if err := w.c.Del(ctx, fmt.Sprintf("%s:{s%02d}:prof:%s", w.prefix, redisstore.ShardOf(ref), k)).Err(); err != nil {
				t.Fatal(err)
			}
			continue
		}
		w.send(ref, bot.Event{Kind: bot.EventText, Text: "xin chào"})
	}
	again := redisstore.New(w.c, redisstore.Options{Prefix: w.prefix})
	for sh := range redisstore.Shards {
		for cursors[sh] != "" {
			page, next, err := again.Audience(ctx, sh, q, cursors[sh], 6)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range page {
				got[m.Conversation.Key()]++
			}
			cursors[sh] = next
		}
	}
	for k := range want {
		switch {
		case k == gone && got[k] != 0:
			t.Errorf("%s: its session expired, yet read %d times", k, got[k])
		case k != gone && got[k] != 1:
			t.Errorf("%s read %d times, want once", k, got[k])
		}
	}
	if n, err := w.st.AudienceCount(ctx, q); err != nil || n != int64(len(want)-1) {
		t.Errorf("after the walk met the expired session: count %d, %v; want %d", n, err, len(want)-1)
	}
}

func TestAudienceRefusesWhatNoIndexAnswers(t *testing.T) {
	w := newTown(t)
	ctx := context.Background()
	if _, _, err := w.st.Audience(ctx, 0, bot.AudienceQuery{Kind: bot.AudienceDraft}, "", 10); err == nil {
		t.Error("a draft audience without a program was read")
	}
	if _, _, err := w.st.Audience(ctx, redisstore.Shards, bot.AudienceQuery{Kind: bot.AudienceAll}, "", 10); err == nil {
		t.Error("a shard out of range was read")
	}
	q := bot.AudienceQuery{Kind: bot.AudienceAll, Channel: bot.Telegram}
	for _, cursor := range []string{"nonsense", "zalo|vi|1|zl:1", "telegram|vi|x|tg:1"} {
		if _, _, err := w.st.Audience(ctx, 0, q, cursor, 10); err == nil {
			t.Errorf("cursor %q was taken", cursor)
		}
	}
}

// TestAudienceDraftExpires: a draft whose state expired is no longer reminded of, and
// leaves its index when a walk meets it; the citizen still follows the program.
func TestAudienceDraftExpires(t *testing.T) {
	w := newTown(t)
	ctx := context.Background()
	lan := bot.ConversationRef{Channel: bot.Telegram, ID: "3003"}
	w.send(lan, bot.Event{Kind: bot.EventCommand, Command: "start"})
	w.press(lan, "cmd:initiative")
	w.press(lan, "agree")
	w.press(lan, "program:"+green)
	drafts := bot.AudienceQuery{Kind: bot.AudienceDraft, Program: green}
	if got := keysOf(w.walk(drafts, 10)); !slices.Equal(got, []string{lan.Key()}) {
		t.Fatalf("draft audience = %v, want the citizen", got)
	}
	if err := w.c.Del(ctx, fmt.Sprintf("%s:{s%02d}:state:%s", w.prefix, redisstore.ShardOf(lan), lan.Key())).Err(); err != nil {
		t.Fatal(err)
	}
	if got := w.walk(drafts, 10); len(got) != 0 {
		t.Errorf("draft audience after the draft expired = %v, want none", keysOf(got))
	}
	if n, err := w.st.AudienceCount(ctx, drafts); err != nil || n != 0 {
		t.Errorf("draft count after the walk = %d, %v; want 0", n, err)
	}
	if got := keysOf(w.walk(bot.AudienceQuery{Kind: bot.AudienceProgram, Program: green}, 10)); !slices.Equal(got, []string{lan.Key()}) {
		t.Errorf("program audience = %v, want the citizen still", got)
	}
}

// TestAudienceDraftTitle: a walk of the draft audience gives each owner's draft title
// ("" before they gave one, or when their state cannot be read), and the program's
// followers WithoutDrafts leave the draft owners out, in every language, while a plain
// walk of them has everyone.
func TestAudienceDraftTitle(t *testing.T) {
	w := newTown(t)
	lan := bot.ConversationRef{Channel: bot.Telegram, ID: "4004"} // a titled draft
	minh := bot.ConversationRef{Channel: bot.Zalo, ID: "5005"}    // a draft, no title yet, in English
	hoa := bot.ConversationRef{Channel: bot.Telegram, ID: "6006"} // follows, no draft
	for _, c := range []bot.ConversationRef{lan, minh, hoa} {
		w.send(c, bot.Event{Kind: bot.EventCommand, Command: "start"})
	}
	w.press(minh, "lang:en")
	for _, c := range []bot.ConversationRef{lan, minh, hoa} {
		w.press(c, "cmd:initiative")
		w.press(c, "agree")
		w.press(c, "program:"+green)
	}
	w.press(lan, "field:khong-khi")
	w.say(lan, "Trồng thêm cây xanh trên phố Nguyễn Trãi")
	w.say(hoa, "hủy")
	w.press(hoa, "cancel:yes")
	drafts := w.walk(bot.AudienceQuery{Kind: bot.AudienceDraft, Program: green}, 10)
	titles := map[string]string{}
	for _, m := range drafts {
		titles[m.Conversation.Key()] = m.DraftTitle
	}
	if want := map[string]string{lan.Key(): "Trồng thêm cây xanh trên phố Nguyễn Trãi", minh.Key(): ""}; !maps.Equal(titles, want) {
		t.Errorf("draft titles = %q, want %q", titles, want)
	}
	followers := bot.AudienceQuery{Kind: bot.AudienceProgram, Program: green}
	if got := keysOf(w.walk(followers, 10)); len(got) != 3 {
		t.Errorf("followers = %v, want all three", got)
	}
	followers.WithoutDrafts = true
	if got := keysOf(w.walk(followers, 10)); !slices.Equal(got, []string{hoa.Key()}) {
		t.Errorf("followers without drafts = %v, want %s alone", got, hoa.Key())
	}
	for _, m := range w.walk(followers, 10) {
		if m.DraftTitle != "" {
			t.Errorf("a follower's member carries a title: %+v", m)
		}
	}
	// A state the walk cannot read does not stop it: that owner is reminded untitled.
	state := fmt.Sprintf("%s:{s%02d}:state:%s", w.prefix, redisstore.ShardOf(lan), lan.Key())
	if err := w.c.Set(context.Background(), state, "{broken", time.Hour).Err(); err != nil {
		t.Fatal(err)
	}
	titles = map[string]string{}
	for _, m := range w.walk(bot.AudienceQuery{Kind: bot.AudienceDraft, Program: green}, 10) {
		titles[m.Conversation.Key()] = m.DraftTitle
	}
	if want := map[string]string{lan.Key(): "", minh.Key(): ""}; !maps.Equal(titles, want) {
		t.Errorf("with an unreadable state, draft titles = %q, want %q", titles, want)
	}
}

// BenchmarkAudienceWalk reads a 100,000-member audience in pages of 500 across all
// shards and reports members per second (the members are written as Commit writes them).
//
//	go test -run '^$' -bench AudienceWalk -benchtime 3x ./bot/redisstore/
func BenchmarkAudienceWalk(b *testing.B) {
	c := redistest.Client(b)
	prefix := redistest.Prefix(b)
	st := redisstore.New(c, redisstore.Options{Prefix: prefix})
	ctx := context.Background()
	const members = 100_000
	_, err := c.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i := range members {
			ref := bot.ConversationRef{Channel: bot.Telegram, ID: strconv.Itoa(i)}
			base := fmt.Sprintf("%s:{s%02d}:", prefix, redisstore.ShardOf(ref))
			p.Set(ctx, base+"prof:"+ref.Key(), "{}", time.Hour)
			p.ZAdd(ctx, base+"aud:telegram:vi:news", redis.Z{Score: float64(1_764_000_000_000 + i), Member: ref.Key()})
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	q := bot.AudienceQuery{Kind: bot.AudienceSubscribed}
	b.ResetTimer()
	read := 0
	for range b.N {
		for sh := range redisstore.Shards {
			cursor := ""
			for {
				page, next, err := st.Audience(ctx, sh, q, cursor, 500)
				if err != nil {
					b.Fatal(err)
				}
				read += len(page)
				if next == "" {
					break
				}
				cursor = next
			}
		}
	}
	b.StopTimer()
	if read != members*b.N {
		b.Fatalf("read %d members, want %d", read, members*b.N)
	}
	b.ReportMetric(float64(read)/b.Elapsed().Seconds(), "members/s")
}
