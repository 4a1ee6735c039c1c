package telegram

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/sangkien/sangkien/envvar"
)

// PaidBulkRate is TELEGRAM_BULK_RATE's default when broadcasts are paid for: Telegram's
// limit of paid broadcasts, in the window of the free ones.
var PaidBulkRate = envvar.Rate{N: PaidLimit, Per: BotWindow}

// EnvVars are the TELEGRAM_* variables, in the order help shows them.
var EnvVars = []envvar.Var{
	{Name: "TELEGRAM_BOT_TOKEN", Secret: true, Help: "Telegram bot token; empty: no Telegram channel"},
	{Name: "TELEGRAM_WEBHOOK_SECRET", Secret: true, Help: "secret Telegram sends in X-Telegram-Bot-Api-Secret-Token " +
		"(1-256 of A-Z a-z 0-9 _ -); required in webhook mode"},
	{Name: "TELEGRAM_API_ENDPOINT", Default: DefaultEndpoint, Help: "Bot API endpoint in go-telegram-bot-api's format (a fake one in tests)"},
	{Name: "TELEGRAM_MODE", Default: "webhook", Help: "webhook (POST /webhooks/telegram; registered with setWebhook when " +
		"PUBLIC_BASE_URL is set) or polling (getUpdates, for local trials)"},
	{Name: "TELEGRAM_CHAT_INTERVAL", Default: "1s", Help: "least time between messages to one Telegram chat (bursts of 3 allowed)"},
	{Name: "TELEGRAM_BULK_RATE", Default: envvar.Rate{N: BotLimit, Per: BotWindow}.String(), Help: "limit of the bot's " +
		"bulk messages (broadcasts, reminders), shared by every gateway process: count/period, about Telegram's 30 a second " +
		"(" + PaidBulkRate.String() + " with TELEGRAM_PAID_BROADCAST)"},
	{Name: "TELEGRAM_PAID_BROADCAST", Default: "false", Help: "true: bulk messages go with allow_paid_broadcast, up to " +
		"1,000 a second (TELEGRAM_BULK_RATE's default rises to match) for 0.1 Telegram Stars each, taken from the bot's " +
		"balance; replies are never paid for"},
	{Name: "TELEGRAM_REPLY_RATE", Help: "optional limit of the bot's replies to citizens who wrote, shared by every process " +
		"(count/period, e.g. 100/1s); empty: replies are paced per chat and by Telegram's 429 answers only"},
}

// ReadSettings reads the TELEGRAM_* variables of EnvVars; errors go to r.
func ReadSettings(r *envvar.Reader) Settings {
	s := Settings{
		Token:    r.Get("TELEGRAM_BOT_TOKEN"),
		Secret:   r.Get("TELEGRAM_WEBHOOK_SECRET"),
		Endpoint: r.Get("TELEGRAM_API_ENDPOINT"),
		Mode:     r.Get("TELEGRAM_MODE"),
	}
	interval := r.Get("TELEGRAM_CHAT_INTERVAL")
	if d, err := time.ParseDuration(interval); err != nil || d < 0 {
		r.Fail(fmt.Errorf("TELEGRAM_CHAT_INTERVAL=%q: want a duration such as 1s", interval))
	} else {
		s.ChatInterval = d
	}
	for _, v := range []struct {
		name string
		rate *envvar.Rate
	}{{"TELEGRAM_BULK_RATE", &s.Bulk}, {"TELEGRAM_REPLY_RATE", &s.Replies}} {
		rate, err := envvar.ParseRate(r.Get(v.name))
		if err != nil {
			r.Fail(fmt.Errorf("%s=%w", v.name, err))
		}
		*v.rate = rate
	}
	if s.Bulk.N == 0 {
		r.Fail(errors.New("TELEGRAM_BULK_RATE: want a limit, e.g. 30/1s: bulk messages must keep to Telegram's"))
	}
	switch v := strings.ToLower(r.Get("TELEGRAM_PAID_BROADCAST")); v {
	case "true":
		s.PaidBroadcast = true
	case "false":
	default:
		r.Fail(fmt.Errorf("TELEGRAM_PAID_BROADCAST=%q: want true or false", v))
	}
	if s.PaidBroadcast && !r.IsSet("TELEGRAM_BULK_RATE") {
		s.Bulk = PaidBulkRate
	}
	return s
}
