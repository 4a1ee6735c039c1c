package telegram

import (
	"context"
	"net/http"
	"testing"

	"github.com/sangkien/sangkien/bot"
	"github.com/sangkien/sangkien/bot/bottest"
	"github.com/sangkien/sangkien/integrations/telegram/telegramtest"
)

// BenchmarkSend is one reply with three buttons sent to the fake Bot API (in this
// process, so its side of the exchange is counted too): what the client costs a reply.
//
//	go test -run '^$' -bench Send -benchmem ./integrations/telegram/
func BenchmarkSend(b *testing.B) {
	srv := telegramtest.NewServer(b)
	c, err := NewClient(srv.Token, srv.Endpoint(), &http.Client{}, bottest.Catalog(b), nil)
	if err != nil {
		b.Fatal(err)
	}
	o := bot.Outbound{ID: "r1", Conversation: bot.ConversationRef{Channel: bot.Telegram, ID: "1001"}, Lang: "vi",
		Reply: bot.Reply{Text: "Bạn muốn làm gì tiếp theo?", Choices: []bot.Choice{
			{Label: "Gửi sáng kiến", Payload: "cmd:initiative"}, {Label: "Góp ý", Payload: "cmd:feedback"}, {Label: "Tra cứu", Payload: "cmd:status"}}}}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if err := c.Send(ctx, o); err != nil {
			b.Fatal(err)
		}
	}
}
