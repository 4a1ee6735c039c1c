package bot_test

import (
	"strings"
	"testing"
	"time"

	"github.com/sangkien/sangkien/bot"
)

func TestSummarize(t *testing.T) {
	for _, c := range []struct {
		ev   bot.Event
		want string
	}{
		{bot.Event{Kind: bot.EventText, Text: "xin chào"}, "xin chào"},
		{bot.Event{Kind: bot.EventCommand, Command: "start", Payload: "xanh"}, "/start xanh"},
		{bot.Event{Kind: bot.EventButton, Payload: "agree"}, "[agree]"},
		{bot.Event{Kind: bot.EventContact, Contact: &bot.Contact{Name: "An", Phone: "+84912345678"}}, "[contact] An +84912345678"},
		{bot.Event{Kind: bot.EventContact}, "[contact]"},
		{bot.Event{Kind: bot.EventLocation, Location: &bot.Location{Lat: 21.0285, Lon: 105.8542, Label: "Hồ Gươm"}}, "[location] 21.028500,105.854200 Hồ Gươm"},
		{bot.Event{Kind: bot.EventLocation}, "[location]"},
		{bot.Event{Kind: bot.EventAttachments, Text: "ảnh", Attachments: []bot.Attachment{{Kind: bot.Photo}, {Kind: bot.Document, Name: "a.pdf"}}}, "[photo:, document:a.pdf] ảnh"},
		{bot.Event{Kind: bot.EventUnsupported, Unsupported: "voice"}, "[voice]"},
		{bot.Event{Kind: bot.EventFollow}, "[follow]"},
	} {
		if got := bot.Summarize(c.ev); got != c.want {
			t.Errorf("Summarize(%s) = %q, want %q", c.ev.Kind, got, c.want)
		}
	}
}

func TestSendErrorCarriesItsMeaning(t *testing.T) {
	base := &bot.SendError{Failure: bot.RateLimited, Code: 429, Detail: "Too Many Requests", RetryAfter: 3 * time.Second, Err: bot.ErrBusy}
	if s := base.Error(); !strings.Contains(s, "rate-limited") || !strings.Contains(s, "retry after 3s") || !strings.Contains(s, "429") {
		t.Errorf("Error() = %q", s)
	}
	if base.Unwrap() != bot.ErrBusy {
		t.Error("Unwrap lost the cause")
	}
	for f, want := range map[bot.SendFailure]string{bot.Retryable: "retryable", bot.Permanent: "permanent", bot.Gone: "gone", bot.Held: "held", bot.SendFailure(42): "failure(42)"} {
		if f.String() != want {
			t.Errorf("%d.String() = %q, want %q", int(f), f.String(), want)
		}
	}
	if got := (bot.ConversationRef{Channel: bot.Zalo, ID: "77"}).String(); got != "zl:77" {
		t.Errorf("conversation key = %q", got)
	}
}
