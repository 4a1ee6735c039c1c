package zalo

import (
	"net/http"
	"time"

	"github.com/sangkien/sangkien/bot"
)

// Zalo OA API error codes the sender acts on (Zalo's table of OA API errors). Every
// other non-zero code fails the reply as Permanent with the code kept in its failure
// record.
const (
	codeRateLimit      = -32  // too many requests for the app (or the OA)
	codeInvalidParams  = -201 // the request is wrong
	codeNotSupported   = -209 // the app is not activated for this API
	codeQuota          = -211 // the OA's quota of this feature is used up
	codeNotRegistered  = -212 // the OA has not registered this API
	codeNotFollower    = -213 // the user does not follow the OA
	codeTokenInvalid   = -216 // access token invalid
	codeBlocked        = -217 // the user blocked the OA's messages
	codeQuotaReceive   = -218 // the user's quota of messages received is used up
	codeAppRemoved     = -219 // the app is removed or disabled
	codeTokenExpired   = -220 // access token expired
	codeNotVerified    = -221 // the OA must be verified to use this feature
	codeNotAuthorized  = -223 // the OA has not authorized the app for this API
	codeTier           = -224 // the OA's tier package must be upgraded
	codeInactive       = -227 // the user is inactive or blocked (over 45 days)
	codeNoInteraction  = -230 // no interaction with the OA in the last 7 days
	codeWindowExpired  = -232 // the user never interacted, or the window has closed
	codeNight          = -234 // no messages of this type between 22:00 and 06:00
	codeV2ShutDown     = -240 // the v2 message API is shut down; v3 is required
	codeAppSecretProof = -242 // the appsecret_proof sent is wrong
	codeRestrictedUser = -244 // the user restricts messages from OAs
	codeViolation      = -248 // the content violates Zalo's platform standards
	codeNoCloudAccount = -320 // the app must be connected to a Zalo Cloud Account
	codeCloudUnpaid    = -321 // the Zalo Cloud Account is out of money
)

// Waits the API does not state itself.
const (
	rateLimitWait = 10 * time.Second
	quotaWait     = time.Hour
	// configWait is how long a reply waits while the app or the OA is misconfigured:
	// someone has to fix it in Zalo's consoles, and the reply should go when they did.
	configWait = 10 * time.Minute
)

// vietnam is Asia/Ho_Chi_Minh: UTC+7 all year, no daylight saving. A fixed zone needs
// no tz database in the container image.
var vietnam = time.FixedZone("ICT", 7*3600)

// tokenRefused reports the codes that call for a token refresh.
func tokenRefused(code int) bool { return code == codeTokenInvalid || code == codeTokenExpired }

// configCodes are the answers that say the app or the OA is set up wrong (permission
// not granted or revoked, app disabled, OA not verified or on too small a package, no
// paid Zalo Cloud Account): nothing about the message or the citizen, and nothing the
// gateway can fix. The reply waits (Held) and an operator is told, once.
var configCodes = map[int]bool{
	codeNotSupported: true, codeNotRegistered: true, codeAppRemoved: true, codeNotVerified: true,
	codeNotAuthorized: true, codeTier: true, codeV2ShutDown: true, codeAppSecretProof: true,
	codeNoCloudAccount: true, codeCloudUnpaid: true,
}

// configError reports an answer that needs someone to fix the app or the OA.
func configError(code int) bool { return configCodes[code] }

// apiFailure classifies an error the OA API reported in its JSON answer. Token codes
// are classified Held here; the sender refreshes and tries again before returning one.
func apiFailure(code int, message string, now time.Time) *bot.SendError {
	se := &bot.SendError{Code: code, Detail: message}
	switch {
	case code == codeRateLimit:
		se.Failure, se.RetryAfter = bot.RateLimited, rateLimitWait
	case tokenRefused(code):
		se.Failure, se.RetryAfter = bot.Held, time.Minute
	case code == codeNotFollower, code == codeBlocked, code == codeInactive, code == codeNoInteraction,
		code == codeWindowExpired, code == codeRestrictedUser:
		// Nothing sent later reaches them until they write again: the dispatcher marks
		// the conversation unreachable, and their next message makes it reachable.
		// A broadcast counts them skipped, outside the window or gone from the OA.
		se.Failure, se.Skip = bot.Gone, bot.SkipUnfollowed
		switch code {
		case codeBlocked:
			se.Skip = bot.SkipBlocked
		case codeNoInteraction, codeWindowExpired:
			se.Skip = bot.SkipZaloWindow
		}
	case code == codeNight:
		se.Failure, se.RetryAfter = bot.Held, untilMorning(now)
	case code == codeQuota, code == codeQuotaReceive:
		se.Failure, se.RetryAfter = bot.Held, quotaWait
	case code == codeCloudUnpaid:
		se.Failure, se.RetryAfter = bot.Held, quotaWait // a quota that money restores
	case configError(code):
		se.Failure, se.RetryAfter = bot.Held, configWait
	default: // codeInvalidParams, codeViolation (this message's content) and codes not known here
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

// ZNS error codes the sender acts on (Zalo's table of ZNS errors: the same numbers
// mean other things in the OA API's table). Every other non-zero code fails the
// message as Permanent with the code kept in its failure record.
const (
	znsUnknown          = -100 // Zalo's own error: try again later
	znsAppInvalid       = -101 // the app sending is invalid
	znsAppMissing       = -102 // the app does not exist
	znsAppInactive      = -103 // the app is not activated
	znsSecretInvalid    = -104 // the app's secret key is wrong
	znsAppNotLinked     = -105 // the app is linked to no OA
	znsPhoneInvalid     = -108 // the phone number is invalid
	znsTemplateInvalid  = -109 // no such template id
	znsDataEmpty        = -111 // the template data is empty
	znsDataInvalid      = -112 // the template data is wrong (missing, extra or too long)
	znsUserUnreachable  = -114 // the user is inactive, refuses the message or has an old app
	znsOutOfQuota       = -115 // the ZNS account's balance is used up
	znsTemplateDenied   = -117 // the OA or app may not use this template
	znsNoAccount        = -118 // no Zalo account for this phone, or it is disabled
	znsCannotReceive    = -119 // the account cannot receive ZNS messages
	znsTokenInvalid     = -124 // access token invalid
	znsTemplatePending  = -131 // the template is not approved
	znsNight            = -133 // this template may not be sent between 22:00 and 06:00
	znsOANotAllowed     = -135 // the OA may not send ZNS (not verified, free package)
	znsNeedsCloud       = -136 // the OA needs a Zalo Cloud Account
	znsCloudUnpaid      = -137 // the Zalo Cloud Account could not pay
	znsAppNotAllowed    = -138 // the app may not use this feature
	znsUserRefusedKind  = -139 // the user refuses this kind of ZNS message
	znsUserRefusedOA    = -141 // the user refuses ZNS messages from the OA
	znsOADailyLimit     = -144 // the OA sent its ZNS messages for the day
	znsTemplateDisabled = -146 // the template was disabled for poor quality
	znsTemplateDaily    = -147 // the template was sent its limit for the day
)

// znsTokenRefused reports the ZNS code that calls for a token refresh.
func znsTokenRefused(code int) bool { return code == znsTokenInvalid }

// znsConfigCodes say the app or the OA is not set up for ZNS: the message waits
// (Held) and an operator is told, once, as for the OA API's configCodes.
var znsConfigCodes = map[int]bool{
	znsAppInvalid: true, znsAppMissing: true, znsAppInactive: true, znsSecretInvalid: true, znsAppNotLinked: true,
	znsOANotAllowed: true, znsNeedsCloud: true, znsCloudUnpaid: true, znsAppNotAllowed: true,
}

// znsTemplateCodes say a program's template is wrong for Zalo: unknown, not approved,
// not the OA's, disabled, or its parameters do not match what the program fills in.
// The message fails (nothing waiting would fix it) and an operator is told, once.
var znsTemplateCodes = map[int]bool{
	znsTemplateInvalid: true, znsDataEmpty: true, znsDataInvalid: true, znsTemplateDenied: true,
	znsTemplatePending: true, znsTemplateDisabled: true,
}

// znsFailure classifies an error the ZNS API reported in its JSON answer. The token
// code is classified Held here; the sender refreshes and tries again before returning it.
func znsFailure(code int, message string, now time.Time) *bot.SendError {
	se := &bot.SendError{Code: code, Detail: "zns: " + message}
	switch {
	case znsTokenRefused(code):
		se.Failure, se.RetryAfter = bot.Held, time.Minute
	case code == znsUnknown:
		se.Failure = bot.Retryable
	case code == znsNight:
		se.Failure, se.RetryAfter = bot.Held, untilMorning(now)
	case code == znsOutOfQuota, code == znsCloudUnpaid:
		se.Failure, se.RetryAfter = bot.Held, quotaWait
	case code == znsOADailyLimit, code == znsTemplateDaily:
		se.Failure, se.RetryAfter = bot.Held, untilMidnight(now)
	case znsConfigCodes[code]:
		se.Failure, se.RetryAfter = bot.Held, configWait
	default:
		// znsPhoneInvalid, the template codes, and the citizen's own refusals
		// (znsUserUnreachable, znsNoAccount, znsCannotReceive, znsUserRefusedKind,
		// znsUserRefusedOA): this message will not go, but the citizen may still
		// follow the OA and write again, so they are not Gone.
		se.Failure = bot.Permanent
	}
	return se
}

// untilMidnight is the time from now to the next 00:00 in Vietnam, when Zalo's daily
// ZNS limits start again.
func untilMidnight(now time.Time) time.Duration {
	local := now.In(vietnam)
	next := time.Date(local.Year(), local.Month(), local.Day()+1, 0, 0, 0, 0, vietnam)
	return next.Sub(now)
}
