package intake

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	json "github.com/go-json-experiment/json/v1"

	"github.com/sangkien/sangkien/bot"
)

// Limits on what is read from and reported about an intake's answer.
const (
	maxAnswer   = 1 << 20 // bytes of a response body read
	maxDetail   = 500     // bytes of a response body kept in an error
	httpTimeout = 30 * time.Second
)

// userAgent names the gateway to the intake.
const userAgent = "sangkien/1"

// httpClient returns a copy of c (or a new client) that does not follow redirects. A
// client following a 301 or 302 turns the POST into a GET without a body: the intake's
// 2xx to that GET would count as a delivery of a submission that never arrived.
func httpClient(c *http.Client) *http.Client {
	var cp http.Client
	if c != nil {
		cp = *c
	} else {
		cp.Timeout = httpTimeout
	}
	cp.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &cp
}

// checkURL refuses a base URL the clients cannot post to.
func checkURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, errors.New("url is not a URL")
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, errors.New("url must be an absolute http or https URL")
	}
	return u, nil
}

// answer is an intake's HTTP response, read whole (up to maxAnswer).
type answer struct {
	status int
	header http.Header
	body   []byte
}

// do sends req and reads the answer. A failure to get one is a *bot.SendError.
func do(c *http.Client, req *http.Request) (answer, error) {
	resp, err := c.Do(req)
	if err != nil {
		return answer{}, networkFailure(req.Context(), err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return answer{}, networkFailure(req.Context(), err)
	}
	return answer{status: resp.StatusCode, header: resp.Header, body: body}, nil
}

// networkFailure classifies a request that got no answer: retryable, whether the network
// failed or the deadline passed. The *url.Error around it is dropped, since the URL may
// carry a credential in its query.
func networkFailure(ctx context.Context, err error) *bot.SendError {
	var uerr *url.Error
	if errors.As(err, &uerr) {
		err = uerr.Err
	}
	detail := "network error"
	if ctx.Err() != nil || errors.Is(err, context.DeadlineExceeded) || isTimeout(err) {
		detail = "timeout"
	}
	return &bot.SendError{Failure: bot.Retryable, Detail: detail, Err: err}
}

func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}

// failure classifies a non-2xx answer. detail describes it (the trimmed body when the
// caller has nothing better).
//
//   - 429: rate limited, for Retry-After (0 when the intake gave none: back off).
//   - 408 and 5xx: retryable; rate limited when a Retry-After says when.
//   - any other status: permanent, sending the same request again gets the same answer.
func failure(a answer, detail string, now time.Time) *bot.SendError {
	se := &bot.SendError{Code: a.status, Detail: trimDetail(detail)}
	wait, hasWait := retryAfter(a.header.Get("Retry-After"), now)
	switch {
	case a.status == http.StatusTooManyRequests:
		se.Failure, se.RetryAfter = bot.RateLimited, wait
	case a.status == http.StatusRequestTimeout || a.status >= 500:
		se.Failure = bot.Retryable
		if hasWait {
			se.Failure, se.RetryAfter = bot.RateLimited, wait
		}
	default:
		se.Failure = bot.Permanent
	}
	return se
}

// retryAfter reads a Retry-After header: delay seconds or an HTTP date. A date in the
// past means now.
func retryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n < 0 {
			return 0, false
		}
		return time.Duration(min(n, int64(24*time.Hour/time.Second))) * time.Second, true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	return max(t.Sub(now), 0), true
}

// trimDetail keeps at most maxDetail bytes of s, whole runes only.
func trimDetail(s string) string {
	s = strings.TrimSpace(s)
	if len(s) <= maxDetail {
		return s
	}
	cut := maxDetail
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut]
}

// flexString is an identifier that an intake may send as a JSON string or number.
type flexString string

func (f *flexString) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*f = flexString(s)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("identifier %s is neither string nor number", b)
	}
	*f = flexString(n.String())
	return nil
}

// isSuccess reports a 2xx status.
func isSuccess(status int) bool { return status >= 200 && status < 300 }
