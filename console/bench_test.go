package console_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/sangkien/sangkien/bot"
)

// The server's time for the pages staff open most, on a real Redis: the inbox with
// 10,000 conversations (a third waiting for a person), and a conversation whose
// transcript holds its 1,000 lines. Run with make bench BENCH=Console.
func BenchmarkConsoleInbox(b *testing.B) {
	d := newDesk(b, false)
	d.seedInbox(10000)
	c := d.browser()
	d.login(c, lan, lanPassword)
	for _, p := range []struct{ name, path string }{
		{"page", "/console/"},
		{"page-waiting", "/console/?status=waiting"},
		{"api", "/console/api/conversations"},
	} {
		b.Run(p.name, func(b *testing.B) {
			for b.Loop() {
				if res, body := d.get(c, p.path); res.StatusCode != 200 || !strings.Contains(body, "tg:") {
					b.Fatalf("%s: %d", p.path, res.StatusCode)
				}
			}
		})
	}
}

func BenchmarkConsoleConversation(b *testing.B) {
	d := newDesk(b, false)
	conv := d.longConversation(1000)
	c := d.browser()
	d.login(c, lan, lanPassword)
	for _, p := range []struct{ name, path string }{
		{"page", "/console/conversations/" + conv.Key()},
		{"page-all", "/console/conversations/" + conv.Key() + "?all=1"},
		{"api", "/console/api/conversations/" + conv.Key()},
	} {
		b.Run(p.name, func(b *testing.B) {
			for b.Loop() {
				if res, body := d.get(c, p.path); res.StatusCode != 200 || !strings.Contains(body, "Tin nhắn số 999") {
					b.Fatalf("%s: %d", p.path, res.StatusCode)
				}
			}
		})
	}
}

// longConversation is a citizen who asked for a person and then wrote n messages:
// a transcript of its TranscriptMax latest lines when n is that large.
func (d *desk) longConversation(n int) bot.ConversationRef {
	conv := d.citizenAsks() // in human mode from here: each message is one line
	for i := range n {
		ev := bot.Event{ID: fmt.Sprintf("long-%d", i), Conversation: conv, Kind: bot.EventText, Lang: "vi",
			Text: fmt.Sprintf("Tin nhắn số %d: cho tôi hỏi thêm về hồ sơ sáng kiến trồng cây xanh ở phường Láng.", i)}
		if _, err := d.engine.Handle(context.Background(), ev); err != nil {
			d.t.Fatal(err)
		}
	}
	return conv
}

// seedInbox makes n Telegram conversations through the engine: every third asks for
// a person, the others said hello.
func (d *desk) seedInbox(n int) {
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for w := range 4 {
		wg.Go(func() {
			for i := w; i < n; i += 4 {
				conv := bot.ConversationRef{Channel: bot.Telegram, ID: fmt.Sprint(900000000 + i)}
				texts := []string{"xin chào"}
				if i%3 == 0 {
					texts = append(texts, "gặp cán bộ")
				}
				for j, text := range texts {
					ev := bot.Event{ID: fmt.Sprintf("%s-%d", conv.ID, j), Conversation: conv, Kind: bot.EventText, Text: text, Lang: "vi"}
					if _, err := d.engine.Handle(context.Background(), ev); err != nil {
						errs <- err
						return
					}
				}
			}
		})
	}
	wg.Wait()
	select {
	case err := <-errs:
		d.t.Fatal(err)
	default:
	}
}
