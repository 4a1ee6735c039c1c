package telegram

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/sangkien/sangkien/bot"
	"github.com/sangkien/sangkien/locales"
)

// DefaultEndpoint is Telegram's Bot API endpoint in go-telegram-bot-api's format.
const DefaultEndpoint = tgbotapi.APIEndpoint

// getMeTimeout bounds the getMe call NewClient makes, which has no context of its own.
const getMeTimeout = 30 * time.Second

// Client talks to the Bot API. It implements bot.Sender.
//
// go-telegram-bot-api builds its requests without a context, so each call runs on a
// shallow copy of the library's BotAPI whose HTTP client carries the call's context:
// cancellation and deadlines reach the network without forking the library.
type Client struct {
	api          *tgbotapi.BotAPI
	token        string
	hc           *http.Client
	log          *slog.Logger
	fileEndpoint string
	texts        texts
	// paidBroadcast sends broadcasts' messages with allow_paid_broadcast
	// (Settings.PaidBroadcast).
	paidBroadcast bool
}

var _ bot.Sender = (*Client)(nil)

// Command is one entry of the bot's command menu.
type Command struct {
	Command     string `json:"command"`
	Description string `json:"description"`
}

// NewClient checks the token with getMe and returns a Client. endpoint is in
// go-telegram-bot-api's format ("https://api.telegram.org/bot%s/%s"); empty means
// Telegram's. hc may be nil; deadlines come from each call's context. cat holds the
// labels of the request keyboards and the group-chat notice. Required.
func NewClient(token, endpoint string, hc *http.Client, cat *locales.Catalog, log *slog.Logger) (*Client, error) {
	if token == "" {
		return nil, errors.New("telegram client: token is required")
	}
	if cat == nil {
		return nil, errors.New("telegram client: a locales catalog is required")
	}
	if endpoint == "" {
		endpoint = DefaultEndpoint
	}
	if strings.Count(endpoint, "%s") != 2 {
		return nil, errors.New(`telegram client: endpoint must hold two %s verbs, as in "https://api.telegram.org/bot%s/%s"`)
	}
	if hc == nil {
		hc = &http.Client{}
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c := &Client{token: token, hc: hc, log: log.With("component", "telegram"), fileEndpoint: fileEndpoint(endpoint), texts: texts{cat: cat}}

	ctx, cancel := context.WithTimeout(context.Background(), getMeTimeout)
	defer cancel()
	var status int
	api, err := tgbotapi.NewBotAPIWithClient(token, endpoint, &ctxDoer{ctx: ctx, hc: hc, status: &status})
	if err != nil {
		return nil, fmt.Errorf("telegram getMe: %w", c.classify(status, err))
	}
	c.api = api
	return c, nil
}

// Username is the bot's username as getMe reported it (without "@").
func (c *Client) Username() string { return c.api.Self.UserName }

// SetWebhook points Telegram at url. v5.5.1's WebhookConfig has no secret_token field,
// so the parameters are sent as they are.
func (c *Client) SetWebhook(ctx context.Context, url, secret string, allowed []string, maxConns int) error {
	p := tgbotapi.Params{"url": url}
	p.AddNonEmpty("secret_token", secret)
	p.AddNonZero("max_connections", maxConns)
	if allowed != nil {
		if err := p.AddInterface("allowed_updates", allowed); err != nil {
			return fmt.Errorf("telegram setWebhook: %w", err)
		}
	}
	_, err := c.call(ctx, "setWebhook", p)
	return err
}

// DeleteWebhook switches the bot to getUpdates, keeping pending updates.
func (c *Client) DeleteWebhook(ctx context.Context) error {
	_, err := c.call(ctx, "deleteWebhook", tgbotapi.Params{})
	return err
}

// SetMyCommands sets the command menu per language: key "" is the default menu
// (Vietnamese), other keys are language codes ("en").
func (c *Client) SetMyCommands(ctx context.Context, commands map[string][]Command) error {
	langs := make([]string, 0, len(commands))
	for lang := range commands {
		langs = append(langs, lang)
	}
	sort.Strings(langs)
	for _, lang := range langs {
		p := tgbotapi.Params{}
		if err := p.AddInterface("commands", commands[lang]); err != nil {
			return fmt.Errorf("telegram setMyCommands: %w", err)
		}
		p.AddNonEmpty("language_code", lang)
		if _, err := c.call(ctx, "setMyCommands", p); err != nil {
			return err
		}
	}
	return nil
}

// GetUpdates long-polls for updates from offset, waiting up to timeout seconds. Each
// update comes back as Telegram wrote it, for Webhook.Process: one the gateway cannot
// read must not make the whole batch unreadable.
func (c *Client) GetUpdates(ctx context.Context, offset, timeout int64) ([]json.RawMessage, error) {
	p := tgbotapi.Params{}
	p.AddNonZero64("offset", offset)
	p.AddNonZero64("timeout", timeout)
	res, err := c.call(ctx, "getUpdates", p)
	if err != nil {
		return nil, err
	}
	var ups []json.RawMessage
	if err := json.Unmarshal(res, &ups); err != nil {
		return nil, fmt.Errorf("telegram getUpdates: decode: %w", err)
	}
	return ups, nil
}

// FileURL resolves a file_id to a download URL. The URL carries the bot token: hand it
// to the media proxy only, never log, store or forward it.
func (c *Client) FileURL(ctx context.Context, fileID string) (string, error) {
	res, err := c.call(ctx, "getFile", tgbotapi.Params{"file_id": fileID})
	if err != nil {
		return "", err
	}
	var f tgbotapi.File
	if err := json.Unmarshal(res, &f); err != nil {
		return "", fmt.Errorf("telegram getFile: decode: %w", err)
	}
	if f.FilePath == "" {
		return "", errors.New("telegram getFile: no file_path (file too big to download?)")
	}
	return fmt.Sprintf(c.fileEndpoint, c.token, f.FilePath), nil
}

// Typing shows "typing…" in the chat for a few seconds, before a reply that takes a moment.
func (c *Client) Typing(ctx context.Context, chatID int64) error {
	_, err := c.call(ctx, "sendChatAction", tgbotapi.Params{
		"chat_id": strconv.FormatInt(chatID, 10), "action": tgbotapi.ChatTyping,
	})
	return err
}

// ShowTyping shows "typing…" in the conversation's chat (bot.Typer).
func (c *Client) ShowTyping(ctx context.Context, conv bot.ConversationRef) error {
	chatID, err := strconv.ParseInt(conv.ID, 10, 64)
	if err != nil || chatID == 0 {
		return &bot.SendError{Failure: bot.Permanent, Detail: "not a telegram chat: " + bot.MaskID(conv.Key())}
	}
	return c.Typing(ctx, chatID)
}

// answerCallback stops the spinner on a pressed button.
func (c *Client) answerCallback(ctx context.Context, id string) error {
	_, err := c.request(ctx, "answerCallbackQuery", tgbotapi.NewCallback(id, ""))
	return err
}

// removeInlineKeyboard takes the buttons off a message so they cannot be pressed twice.
func (c *Client) removeInlineKeyboard(ctx context.Context, chatID int64, messageID int) error {
	cfg := tgbotapi.NewEditMessageReplyMarkup(chatID, messageID,
		tgbotapi.InlineKeyboardMarkup{InlineKeyboard: [][]tgbotapi.InlineKeyboardButton{}})
	_, err := c.request(ctx, "editMessageReplyMarkup", cfg)
	return err
}

// sendText sends a plain message; used for answers outside the engine (group chats).
func (c *Client) sendText(ctx context.Context, chatID int64, text string, replyTo int) error {
	m := tgbotapi.NewMessage(chatID, text)
	m.ReplyToMessageID = replyTo
	m.AllowSendingWithoutReply = true
	_, err := c.request(ctx, "sendMessage", m)
	return err
}

// request sends one of the library's configs with ctx.
func (c *Client) request(ctx context.Context, method string, cfg tgbotapi.Chattable) (json.RawMessage, error) {
	var status int
	api := c.withContext(ctx, &status)
	resp, err := api.Request(cfg)
	if err != nil {
		return nil, fmt.Errorf("telegram %s: %w", method, c.classify(status, err))
	}
	return resp.Result, nil
}

// call sends raw parameters to method with ctx.
func (c *Client) call(ctx context.Context, method string, p tgbotapi.Params) (json.RawMessage, error) {
	var status int
	api := c.withContext(ctx, &status)
	resp, err := api.MakeRequest(method, p)
	if err != nil {
		return nil, fmt.Errorf("telegram %s: %w", method, c.classify(status, err))
	}
	return resp.Result, nil
}

// withContext returns a copy of the library's client whose requests carry ctx and
// report their HTTP status into status.
func (c *Client) withContext(ctx context.Context, status *int) *tgbotapi.BotAPI {
	api := *c.api
	api.Client = &ctxDoer{ctx: ctx, hc: c.hc, status: status}
	api.Debug = false // debug mode logs URLs, and URLs carry the token
	return &api
}

// ctxDoer gives the library's context-free requests a context and remembers the status.
type ctxDoer struct {
	ctx    context.Context
	hc     *http.Client
	status *int
}

func (d *ctxDoer) Do(req *http.Request) (*http.Response, error) {
	resp, err := d.hc.Do(req.WithContext(d.ctx))
	if resp != nil {
		*d.status = resp.StatusCode
	}
	return resp, err
}

// fileEndpoint derives the file download endpoint from the API endpoint:
// ".../bot%s/%s" becomes ".../file/bot%s/%s", as on Telegram's own server.
func fileEndpoint(api string) string {
	if i := strings.LastIndex(api, "/bot%s/%s"); i >= 0 {
		return api[:i] + "/file/bot%s/%s"
	}
	return tgbotapi.FileEndpoint
}
