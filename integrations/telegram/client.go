package telegram

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	json "github.com/go-json-experiment/json/v1"
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
// Requests are JSON bodies sent with each call's context; go-telegram-bot-api gives the
// types of what is sent and read (keyboards, files, the bot's user).
type Client struct {
	token        string
	endpoint     string
	username     string
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
	c := &Client{token: token, endpoint: endpoint, hc: hc, log: log.With("component", "telegram"), fileEndpoint: fileEndpoint(endpoint), texts: texts{cat: cat}}

	ctx, cancel := context.WithTimeout(context.Background(), getMeTimeout)
	defer cancel()
	res, err := c.call(ctx, "getMe", struct{}{})
	if err != nil {
		return nil, err
	}
	var me tgbotapi.User
	if err := json.Unmarshal(res, &me); err != nil {
		return nil, fmt.Errorf("telegram getMe: %w", c.classify(http.StatusOK, err))
	}
	c.username = me.UserName
	return c, nil
}

// Username is the bot's username as getMe reported it (without "@").
func (c *Client) Username() string { return c.username }

// SetWebhook points Telegram at url (v5.5.1's WebhookConfig has no secret_token field).
func (c *Client) SetWebhook(ctx context.Context, url, secret string, allowed []string, maxConns int) error {
	p := map[string]any{"url": url}
	if secret != "" {
		p["secret_token"] = secret
	}
	if maxConns != 0 {
		p["max_connections"] = maxConns
	}
	if allowed != nil { // an empty list is sent: it asks for every kind but a few
		p["allowed_updates"] = allowed
	}
	_, err := c.call(ctx, "setWebhook", p)
	return err
}

// DeleteWebhook switches the bot to getUpdates, keeping pending updates.
func (c *Client) DeleteWebhook(ctx context.Context) error {
	_, err := c.call(ctx, "deleteWebhook", struct{}{})
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
		p := struct {
			Commands     []Command `json:"commands"`
			LanguageCode string    `json:"language_code,omitempty"`
		}{commands[lang], lang}
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
	res, err := c.call(ctx, "getUpdates", struct {
		Offset  int64 `json:"offset,omitempty"`
		Timeout int64 `json:"timeout,omitempty"`
	}{offset, timeout})
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
	res, err := c.call(ctx, "getFile", map[string]string{"file_id": fileID})
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
	_, err := c.call(ctx, "sendChatAction", struct {
		ChatID int64  `json:"chat_id"`
		Action string `json:"action"`
	}{chatID, tgbotapi.ChatTyping})
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
	_, err := c.call(ctx, "answerCallbackQuery", map[string]string{"callback_query_id": id})
	return err
}

// removeInlineKeyboard takes the buttons off a message so they cannot be pressed twice.
func (c *Client) removeInlineKeyboard(ctx context.Context, chatID int64, messageID int) error {
	_, err := c.call(ctx, "editMessageReplyMarkup", struct {
		ChatID      int64                         `json:"chat_id"`
		MessageID   int                           `json:"message_id"`
		ReplyMarkup tgbotapi.InlineKeyboardMarkup `json:"reply_markup"`
	}{chatID, messageID, tgbotapi.InlineKeyboardMarkup{InlineKeyboard: [][]tgbotapi.InlineKeyboardButton{}}})
	return err
}

// sendText sends a plain message; used for answers outside the engine (group chats).
func (c *Client) sendText(ctx context.Context, chatID int64, text string, replyTo int) error {
	_, err := c.call(ctx, "sendMessage", sendMessage{ChatID: chatID, Text: text, ReplyToMessageID: replyTo, AllowSendingWithoutReply: true})
	return err
}

// maxAnswer bounds what is read of a Bot API answer: a getUpdates batch of 100 updates
// with long texts stays well within it.
const maxAnswer = 16 << 20

// apiAnswer is the envelope of every Bot API answer.
type apiAnswer struct {
	OK          bool            `json:"ok"`
	Result      json.RawMessage `json:"result"`
	ErrorCode   int             `json:"error_code"`
	Description string          `json:"description"`
	Parameters  struct {
		RetryAfter int `json:"retry_after"`
	} `json:"parameters"`
}

// call sends params (a struct or map, encoded as JSON: Telegram takes application/json
// for every method without a file) to method with ctx, and returns the answer's result.
// The library's own requests carry no context and are built as forms of strings.
func (c *Client) call(ctx context.Context, method string, params any) (json.RawMessage, error) {
	body, err := json.Marshal(params)
	if err != nil {
		return nil, fmt.Errorf("telegram %s: %w", method, &bot.SendError{Failure: bot.Permanent, Detail: "parameters: " + err.Error()})
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, fmt.Sprintf(c.endpoint, c.token, method), bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("telegram %s: %w", method, c.classify(0, err))
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("telegram %s: %w", method, c.classify(0, err))
	}
	defer resp.Body.Close()
	var ans apiAnswer
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err == nil {
		err = json.Unmarshal(raw, &ans)
	}
	if err != nil {
		return nil, fmt.Errorf("telegram %s: %w", method, c.classify(resp.StatusCode, err))
	}
	if !ans.OK {
		return nil, fmt.Errorf("telegram %s: %w", method, apiFailure(ans.ErrorCode, c.scrub(ans.Description), ans.Parameters.RetryAfter))
	}
	return ans.Result, nil
}

// fileEndpoint derives the file download endpoint from the API endpoint:
// ".../bot%s/%s" becomes ".../file/bot%s/%s", as on Telegram's own server.
func fileEndpoint(api string) string {
	if i := strings.LastIndex(api, "/bot%s/%s"); i >= 0 {
		return api[:i] + "/file/bot%s/%s"
	}
	return tgbotapi.FileEndpoint
}
