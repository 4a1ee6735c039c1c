package telegram

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/sangkien/sangkien/locales"
)

// This file is what a gateway needs to set the channel up: its settings and their
// checks, Telegram's limits, the webhook's address and the command menu.

// Settings is the channel's configuration, read from the environment by the gateway.
type Settings struct {
	Token    string // TELEGRAM_BOT_TOKEN; empty: no Telegram channel
	Secret   string // TELEGRAM_WEBHOOK_SECRET
	Endpoint string // TELEGRAM_API_ENDPOINT
	Mode     string // TELEGRAM_MODE: "webhook" or "polling"
	// ChatInterval is the least time between messages to one chat (Telegram asks for
	// about one a second); bursts of ChatBurst are allowed.
	ChatInterval time.Duration
}

// Check reports what is wrong with s; every error names its variable.
func (s Settings) Check() error {
	if s.Mode != "webhook" && s.Mode != "polling" {
		return fmt.Errorf("TELEGRAM_MODE=%q: want webhook or polling", s.Mode)
	}
	if s.Token == "" {
		return nil
	}
	if s.Mode == "webhook" && s.Secret == "" {
		return errors.New("TELEGRAM_WEBHOOK_SECRET: required in webhook mode, so that only Telegram can post updates")
	}
	if !strings.Contains(s.Endpoint, "%s") {
		return fmt.Errorf("TELEGRAM_API_ENDPOINT=%q: want go-telegram-bot-api's format, e.g. %s", s.Endpoint, DefaultEndpoint)
	}
	return nil
}

// Telegram's limits: 30 messages a second per bot, about one a second per chat. The
// window is a little longer than a second so that network jitter between the limiter
// and Telegram cannot squeeze a 31st message into Telegram's own one-second count.
const (
	BotLimit       = 30
	BotWindow      = time.Second + 100*time.Millisecond
	ChatBurst      = 3
	MaxConnections = 40 // setWebhook's max_connections
	PollTimeout    = 30 // getUpdates' long-poll timeout, in seconds
)

// Updates are the update kinds the gateway asks Telegram for.
func Updates() []string {
	return []string{"message", "edited_message", "callback_query", "my_chat_member"}
}

// WebhookPath is where the gateway serves the webhook.
const WebhookPath = "/webhooks/telegram"

// WebhookURL is the webhook's public address under the gateway's public base URL.
func WebhookURL(publicBase string) string {
	return strings.TrimRight(publicBase, "/") + WebhookPath
}

// PollingSecret is a webhook secret for polling mode, where the webhook handler is not
// mounted and only its Process is used: a random one, never shown to anybody.
func PollingSecret() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Commands is the bot's command menu in Vietnamese (the default) and English.
func Commands(cat *locales.Catalog) map[string][]Command {
	out := map[string][]Command{}
	for code, lang := range map[string]string{"": locales.VI, "en": locales.EN} {
		l := cat.For(lang)
		out[code] = []Command{
			{Command: "start", Description: l.T("command.start")},
			{Command: "initiative", Description: l.T("command.initiative")},
			{Command: "feedback", Description: l.T("command.feedback")},
			{Command: "status", Description: l.T("command.status")},
			{Command: "language", Description: l.T("command.language")},
			{Command: "human", Description: l.T("command.human")},
			{Command: "cancel", Description: l.T("command.cancel")},
			{Command: "help", Description: l.T("command.help")},
		}
	}
	return out
}
