package zalo

import (
	"net/http"
	"time"

	"github.com/sangkien/sangkien/bot"
)

// Zalo OA API error codes the sender acts on. Every other non-zero code fails the
// reply as Permanent with the code kept in its failure record.
const (
	codeRateLimit      = -32  // too many requests for the app
	codeInvalidParams  = -201 // the request is wrong
	codeQuota          = -211 // the OA's message quota is used up
	codeNotFollower    = -213 // the user does not follow the OA
	codeTokenInvalid   = -216 // access token invalid
	codeBlocked        = -217 // the user blocked the OA's messages
	codeQuotaReceive   = -218 // the user's quota of messages received is used up
	codeTokenExpired   = -220 // access token expired
	codeInactive       = -227 // the user is inactive or blocked (over 45 days)
	codeNoInteraction  = -230 // no interaction with the OA in the last 7 days
	codeWindowExpired  = -232 // the user never interacted, or the window has closed
	codeNight          = -234 // no consultation messages between 22:00 and 06:00
	codeRestrictedUser = -244 // the user restricts messages from OAs
)

// Waits the API does not state itself.
const (
	rateLimitWait = 10 * time.Second
	quotaWait     = time.Hour
)

// vietnam is Asia/Ho_Chi_Minh: UTC+7 all year, no daylight saving. A fixed zone needs
// no tz database in the container image.
var vietnam = time.FixedZone("ICT", 7*3600)

// tokenRefused reports the codes that call for a token refresh.
func tokenRefused(code int) bool { return code == codeTokenInvalid || code == codeTokenExpired }

// apiFailure classifies an error the OA API reported in its JSON answer. Token codes
// are classified Held here; the sender refreshes and tries again before returning one.
func apiFailure(code int, message string, now time.Time) *bot.SendError {
	se := &bot.SendError{Code: code, Detail: message}
	switch code {
	case codeRateLimit:
		se.Failure, se.RetryAfter = bot.RateLimited, rateLimitWait
	case codeTokenInvalid, codeTokenExpired:
		se.Failure, se.RetryAfter = bot.Held, time.Minute
	case codeNotFollower, codeBlocked, codeInactive, codeNoInteraction, codeWindowExpired, codeRestrictedUser:
		// Nothing sent later reaches them until they write again: the dispatcher marks
		// the conversation unreachable, and their next message makes it reachable.
		se.Failure = bot.Gone
	case codeNight:
		se.Failure, se.RetryAfter = bot.Held, untilMorning(now)
	case codeQuota, codeQuotaReceive:
		se.Failure, se.RetryAfter = bot.Held, quotaWait
	default: // codeInvalidParams and codes not known here
		se.Failure = bot.Permanent
	}
	return se
}

// untilMorning is the time from now to the next 06:00 in Vietnam, when Zalo lets
// consultation messages through again.
func untilMorning(now time.Time) time.Duration {
	local := now.In(vietnam)
	six := time.Date(local.Year(), local.Month(), local.Day(), 6, 0, 0, 0, vietnam)
	if !local.Before(six) {
		six = six.AddDate(0, 0, 1)
	}
	return six.Sub(now)
}

// httpFailure classifies an answer that is not HTTP 200 (the API answers its own errors
// with 200, so these come from the way there: a proxy, an outage).
func httpFailure(status int) *bot.SendError {
	se := &bot.SendError{Failure: bot.Retryable, Code: status, Detail: http.StatusText(status)}
	switch {
	case status == http.StatusTooManyRequests:
		se.Failure, se.RetryAfter = bot.RateLimited, rateLimitWait
	case status >= 500:
	case status >= 400:
		se.Failure = bot.Permanent
	}
	return se
}
