package telegram

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/sangkien/sangkien/bot"
)

// goneReasons are 403 descriptions that mean the citizen cannot be messaged any more.
var goneReasons = []string{
	"bot was blocked by the user",
	"user is deactivated",
	"bot was kicked",
	"bot can't initiate conversation",
}

// classify turns a Bot API call that got no readable answer into a *bot.SendError (an
// answer that says why is apiFailure's). status is the HTTP status when a response
// arrived, 0 otherwise. The token never survives into the result.
func (c *Client) classify(status int, err error) *bot.SendError {
	se := &bot.SendError{Failure: bot.Retryable, Code: status, Err: c.scrubErr(err)}
	switch {
	case status == 0:
		se.Detail = "network error"
	case status == http.StatusTooManyRequests:
		se.Failure, se.RetryAfter, se.Detail = bot.RateLimited, time.Second, "rate limited"
	case status >= 500:
		se.Detail = "server error"
	case status >= 400:
		se.Failure, se.Detail = bot.Permanent, "request refused"
	default:
		se.Detail = "unreadable answer"
	}
	return se
}

// apiFailure classifies an error the Bot API described in its JSON answer.
func apiFailure(code int, desc string, retryAfter int) *bot.SendError {
	se := &bot.SendError{Code: code, Detail: desc}
	switch {
	case code == http.StatusTooManyRequests:
		se.Failure = bot.RateLimited
		se.RetryAfter = time.Duration(retryAfter) * time.Second
		if se.RetryAfter <= 0 {
			se.RetryAfter = time.Second
		}
	case code == http.StatusForbidden && isGone(desc):
		se.Failure = bot.Gone
	case code >= 500:
		se.Failure = bot.Retryable
	default:
		// 400 (chat not found, bad markup), 401 (bad token), 403 (no rights), 409
		// (webhook set while polling): trying again sends the same refused request.
		se.Failure = bot.Permanent
	}
	return se
}

func isGone(desc string) bool {
	d := strings.ToLower(desc)
	for _, r := range goneReasons {
		if strings.Contains(d, r) {
			return true
		}
	}
	return false
}

// scrub replaces the bot token in s.
func (c *Client) scrub(s string) string { return scrubToken(s, c.token) }

func scrubToken(s, token string) string {
	if token == "" {
		return s
	}
	return strings.ReplaceAll(s, token, "<token>")
}

// scrubErr returns err with the token removed from its text. Transport errors are
// *url.Error carrying the request URL, and so the token: they are rebuilt with a scrubbed
// URL so net.Error and context errors still match errors.Is/As.
func (c *Client) scrubErr(err error) error {
	if err == nil || !strings.Contains(err.Error(), c.token) {
		return err
	}
	var ue *url.Error
	if errors.As(err, &ue) && !strings.Contains(ue.Err.Error(), c.token) {
		return &url.Error{Op: ue.Op, URL: c.scrub(ue.URL), Err: ue.Err}
	}
	switch {
	case errors.Is(err, context.Canceled):
		return scrubbedError{msg: c.scrub(err.Error()), cause: context.Canceled}
	case errors.Is(err, context.DeadlineExceeded):
		return scrubbedError{msg: c.scrub(err.Error()), cause: context.DeadlineExceeded}
	}
	return errors.New(c.scrub(err.Error()))
}

// scrubbedError keeps a context error's identity behind a scrubbed text.
type scrubbedError struct {
	msg   string
	cause error
}

func (e scrubbedError) Error() string { return e.msg }
func (e scrubbedError) Unwrap() error { return e.cause }
