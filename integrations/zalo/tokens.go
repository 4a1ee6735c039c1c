package zalo

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

	json "github.com/go-json-experiment/json/v1"

	"github.com/sangkien/sangkien/bot"
)

// TokenStore keeps the app's token pair where every gateway process sees it, and the
// lock that lets one of them refresh it. bot/redisstore.ZaloTokens implements it. The
// pair is opaque to the store: this package writes it as JSON (see Token).
type TokenStore interface {
	// Get returns the stored pair, or nil when there is none.
	Get(ctx context.Context, appID string) ([]byte, error)
	// Set stores the pair, replacing any other.
	Set(ctx context.Context, appID string, pair []byte) error
	// Seed stores the pair only when none is stored, and reports whether it did.
	Seed(ctx context.Context, appID string, pair []byte) (bool, error)
	// Lock takes the refresh lock for ttl and returns the owner value that releases it,
	// or "" when another process holds it.
	Lock(ctx context.Context, appID string, ttl time.Duration) (string, error)
	// Unlock releases the lock if owner still holds it.
	Unlock(ctx context.Context, appID, owner string) error
}

// Token is a stored token pair.
type Token struct {
	Access  string `json:"access_token"`
	Refresh string `json:"refresh_token"`
	// Expires is when the access token ends; zero when unknown (a pair given in the
	// environment): it is then used until Zalo refuses it.
	Expires time.Time `json:"expires_at,omitzero"`
	Updated time.Time `json:"updated_at,omitzero"`
}

// Defaults of the token handling in ClientConfig.
const (
	DefaultRefreshAhead = time.Hour
	// DefaultLockTTL is the refresh lease's period (the store caps it at 15 seconds):
	// a process killed mid-refresh holds the others up that long at most.
	DefaultLockTTL     = 15 * time.Second
	DefaultRefreshWait = 5 * time.Second
	// refreshTimeout bounds one call to the OAuth endpoint; it is well under the lock's
	// life, so the lock cannot lapse while a refresh is under way.
	refreshTimeout = 10 * time.Second
	// failPause is how long a process waits after a failed refresh before trying again:
	// every send in that time waits instead of hammering the OAuth endpoint.
	failPause = time.Minute
	// pollEvery is how often a process waiting for another's refresh re-reads the store.
	pollEvery = 25 * time.Millisecond
	// storeBackoff and storeBackoffMax pace the attempts to store a refreshed pair the
	// store refused: the first retry comes soon (most Redis errors pass), later ones
	// at most this far apart, for as long as it takes.
	storeBackoff    = 250 * time.Millisecond
	storeBackoffMax = 30 * time.Second
)

// errNoToken and errRefreshing make sends wait rather than fail.
var (
	errNoToken    = errors.New("no zalo token pair stored: set ZALO_ACCESS_TOKEN and ZALO_REFRESH_TOKEN")
	errRefreshing = errors.New("another process is refreshing the zalo token")
)

// Seed stores the pair given in ClientConfig (from the environment) when the store
// holds none, and reports whether it did. A stored pair always wins: the environment's
// refresh token is burnt by the first refresh, so after that only the store has a
// working one. load seeds too, so a store that was down at start is seeded later.
func (c *Client) Seed(ctx context.Context) (bool, error) {
	if c.seed.Access == "" && c.seed.Refresh == "" {
		return false, nil
	}
	seed := c.seed
	seed.Updated = c.now()
	b, err := json.Marshal(seed)
	if err != nil {
		return false, err
	}
	ok, err := c.tokens.Seed(ctx, c.appID, b)
	if err != nil {
		return false, fmt.Errorf("zalo: seed token pair: %w", err)
	}
	return ok, nil
}

// Stored reports whether the store holds a token pair.
func (c *Client) Stored(ctx context.Context) (bool, error) {
	t, err := c.load(ctx)
	return t != nil, err
}

// accessToken returns the access token to send with, refreshing it first when it ends
// within RefreshAhead. A failed refresh is logged loudly; while the current token is
// still valid it is used, and once it is not, sends wait (a Held SendError).
func (c *Client) accessToken(ctx context.Context) (Token, error) {
	t, err := c.load(ctx)
	if err != nil {
		return Token{}, wait(err, c.refreshWait)
	}
	if t == nil {
		return Token{}, wait(errNoToken, time.Minute)
	}
	if t.Expires.IsZero() || c.now().Before(t.Expires.Add(-c.refreshAhead)) {
		return *t, nil
	}
	nt, err := c.refresh(ctx, *t)
	if err == nil {
		return nt, nil
	}
	if c.now().Before(t.Expires) {
		return *t, nil
	}
	return Token{}, wait(err, c.retryAfter(err))
}

// refresh replaces the stale pair, once across every process: it takes the store's
// lock, re-reads the pair (another process may have refreshed it meanwhile), calls the
// OAuth endpoint and stores the new pair before releasing the lock. A process that
// finds the lock taken polls the store for the new pair instead of refreshing itself.
// Within one process the same happens one goroutine at a time. When the store refuses
// the new pair, this process keeps it and keepStoring retries; the lock is then held
// until the pair is stored or the lock lapses.
func (c *Client) refresh(ctx context.Context, stale Token) (Token, error) {
	select {
	case c.refreshing <- struct{}{}:
		defer func() { <-c.refreshing }()
	case <-ctx.Done():
		return Token{}, ctx.Err()
	}
	if t, err := c.load(ctx); err != nil {
		return Token{}, err
	} else if t != nil && t.Access != stale.Access {
		return *t, nil // refreshed while this goroutine waited its turn
	}
	if failed := c.lastFailure(); failed != nil {
		return Token{}, failed
	}
	owner, err := c.tokens.Lock(ctx, c.appID, c.lockTTL)
	if err != nil {
		return Token{}, fmt.Errorf("zalo token lock: %w", err)
	}
	if owner == "" {
		return c.awaitRefresh(ctx, stale)
	}
	// The refresh and the save must not be cut short by this send's context: once Zalo
	// has answered, the old refresh token is void and the new pair is the only one.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), refreshTimeout)
	defer cancel()
	release := true
	defer func() {
		if release {
			c.unlock(rctx, owner)
		}
	}()
	cur, err := c.load(rctx)
	if err != nil {
		return Token{}, err
	}
	switch {
	case cur == nil:
		return Token{}, errNoToken
	case cur.Access != stale.Access:
		return *cur, nil
	}
	nt, err := c.callOAuth(rctx, cur.Refresh)
	if err != nil {
		c.failed(err)
		c.log.Error("ZALO TOKEN REFRESH FAILED: replies to Zalo wait until it works; "+
			"if the refresh token is void, authorize the OA again and put the new pair in the store",
			"err", err)
		return Token{}, err
	}
	b, err := json.Marshal(nt)
	if err != nil {
		return Token{}, err
	}
	if err := c.storeRefreshed(rctx, b); err != nil {
		// The old refresh token is void now: this pair is the only way back. This
		// process keeps it (load prefers it to the stale stored pair) and stores it in
		// the background; the lock stays taken until then, so that no other process
		// burns its refresh on the void token (the lock's TTL bounds that).
		c.log.Error("ZALO TOKEN PAIR NOT STORED after a refresh: this process keeps it and retries; "+
			"other processes cannot refresh until it is stored", "err", err)
		release = false
		c.keepUnstored(&unstored{tok: nt, from: cur.Refresh, owner: owner})
		return nt, nil
	}
	c.log.Info("zalo access token refreshed", "expires", nt.Expires)
	return nt, nil
}

// storeRefreshed stores a freshly refreshed pair; once it is stored, an unstored older
// pair is moot.
func (c *Client) storeRefreshed(ctx context.Context, pair []byte) error {
	c.storeMu.Lock()
	defer c.storeMu.Unlock()
	if err := c.tokens.Set(ctx, c.appID, pair); err != nil {
		return err
	}
	c.mu.Lock()
	c.unstored = nil
	c.mu.Unlock()
	return nil
}

// unlock releases the refresh lock taken as owner.
func (c *Client) unlock(ctx context.Context, owner string) {
	if err := c.tokens.Unlock(ctx, c.appID, owner); err != nil {
		c.log.Warn("releasing the zalo token lock failed; it lapses by itself", "err", err)
	}
}

// unstored is a refreshed pair the store has not taken yet.
type unstored struct {
	tok Token
	// from is the refresh token tok replaced (void now): a stored pair holding it is
	// older than tok whatever the clocks of the processes say.
	from string
	// owner is the refresh lock, released once tok is stored.
	owner string
}

func (u *unstored) copy() *Token {
	t := u.tok
	return &t
}

// keepUnstored makes u the pair this process sends with and starts storing it in the
// background, unless that is already running (it then stores u next).
func (c *Client) keepUnstored(u *unstored) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.unstored = u
	if c.storing {
		return
	}
	c.storing = true
	c.bg.Go(c.keepStoring)
}

// pending is the unstored pair, if any.
func (c *Client) pending() *unstored {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.unstored
}

// keepStoring stores the unstored pair, retrying with a growing pause for as long as
// the store refuses it, and logs every failure at Error: until it is stored, the other
// processes cannot refresh and a restart of this one loses the only valid refresh
// token. It then releases the refresh lock it holds.
func (c *Client) keepStoring() {
	pace := bot.Backoff{Base: c.storeBackoff, Max: c.storeBackoffMax, Steady: true}
	attempts := 0
	for {
		c.mu.Lock()
		u := c.unstored
		if u == nil {
			c.storing = false
			c.mu.Unlock()
			return
		}
		c.mu.Unlock()
		attempts++
		done, err := c.storeUnstored(u)
		if err == nil {
			c.mu.Lock()
			if c.unstored == u {
				c.unstored = nil
			}
			c.mu.Unlock()
			ctx, cancel := context.WithTimeout(context.Background(), refreshTimeout)
			c.unlock(ctx, u.owner)
			cancel()
			c.log.Warn("unstored zalo token pair "+done, "attempts", attempts)
			attempts = 0
			continue
		}
		pause := pace.Wait(attempts)
		c.log.Error("ZALO TOKEN PAIR STILL NOT STORED: the store lags behind this process; retrying",
			"attempts", attempts, "retry_in", pause, "err", err)
		time.Sleep(pause)
	}
}

// storeUnstored writes u's pair unless this process or the store already holds a newer
// one (a later refresh, a pair authorized again by hand), and says which happened.
func (c *Client) storeUnstored(u *unstored) (string, error) {
	c.storeMu.Lock()
	defer c.storeMu.Unlock()
	if c.pending() != u {
		return "replaced by a newer pair", nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), refreshTimeout)
	defer cancel()
	if b, err := c.tokens.Get(ctx, c.appID); err == nil && b != nil {
		var st Token
		if json.Unmarshal(b, &st) == nil && storedWins(st, u) {
			if st.Access == u.tok.Access {
				return "stored", nil
			}
			return "superseded by a newer stored pair", nil
		}
	}
	b, err := json.Marshal(u.tok)
	if err != nil {
		return "", err
	}
	if err := c.tokens.Set(ctx, c.appID, b); err != nil {
		return "", err
	}
	return "stored", nil
}

// storedWins says whether the stored pair st is to be used rather than the unstored u:
// when it is u itself, or neither the pair u replaced nor older than u.
func storedWins(st Token, u *unstored) bool {
	switch {
	case st.Access == u.tok.Access && st.Refresh == u.tok.Refresh:
		return true
	case st.Refresh == u.from:
		return false
	}
	return st.Updated.After(u.tok.Updated)
}

// awaitRefresh polls the store until the pair differs from stale, for up to
// refreshWait.
func (c *Client) awaitRefresh(ctx context.Context, stale Token) (Token, error) {
	deadline := time.NewTimer(c.refreshWait)
	defer deadline.Stop()
	tick := time.NewTicker(pollEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return Token{}, ctx.Err()
		case <-deadline.C:
			return Token{}, errRefreshing
		case <-tick.C:
		}
		t, err := c.load(ctx)
		if err != nil {
			return Token{}, err
		}
		if t != nil && t.Access != stale.Access {
			return *t, nil
		}
	}
}

// load reads the stored pair; nil when there is none. While the store lags behind a
// refresh of this process, the unstored pair wins over what the store holds or fails to
// give: it holds the only valid refresh token.
func (c *Client) load(ctx context.Context) (*Token, error) {
	u := c.pending()
	b, err := c.tokens.Get(ctx, c.appID)
	switch {
	case u != nil && (err != nil || b == nil):
		return u.copy(), nil
	case err != nil:
		return nil, fmt.Errorf("zalo token store: %w", err)
	case b == nil:
		if ok, err := c.Seed(ctx); err != nil || !ok {
			return nil, err
		}
		return c.load(ctx)
	}
	var t Token
	if err := json.Unmarshal(b, &t); err != nil {
		if u != nil {
			return u.copy(), nil
		}
		return nil, fmt.Errorf("zalo token store: stored pair unreadable: %w", err)
	}
	if u != nil && !storedWins(t, u) {
		return u.copy(), nil
	}
	return &t, nil
}

// oauthAnswer is the OAuth endpoint's answer: a pair, or an error code.
type oauthAnswer struct {
	Access      string     `json:"access_token"`
	Refresh     string     `json:"refresh_token"`
	ExpiresIn   flexString `json:"expires_in"` // "90000" or 90000
	Error       flexString `json:"error"`
	ErrorName   string     `json:"error_name"`
	Description string     `json:"error_description"`
}

// callOAuth trades the refresh token for a new pair.
func (c *Client) callOAuth(ctx context.Context, refresh string) (Token, error) {
	if refresh == "" {
		return Token{}, errors.New("zalo refresh: no refresh token stored")
	}
	form := url.Values{"refresh_token": {refresh}, "app_id": {c.appID}, "grant_type": {"refresh_token"}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.oauthBase+"/v4/oa/access_token", strings.NewReader(form.Encode()))
	if err != nil {
		return Token{}, fmt.Errorf("zalo refresh: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("secret_key", c.appSecret)
	resp, err := c.hc.Do(req)
	if err != nil {
		return Token{}, fmt.Errorf("zalo refresh: %w", scrubURL(err))
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return Token{}, fmt.Errorf("zalo refresh: read answer: %w", err)
	}
	var a oauthAnswer
	if err := json.Unmarshal(body, &a); err != nil {
		return Token{}, fmt.Errorf("zalo refresh: HTTP %d, unreadable answer", resp.StatusCode)
	}
	if code := string(a.Error); (code != "" && code != "0") || a.Access == "" || a.Refresh == "" {
		return Token{}, fmt.Errorf("zalo refresh refused: HTTP %d, error %s %s: %s", resp.StatusCode, code, a.ErrorName, a.Description)
	}
	now := c.now()
	t := Token{Access: a.Access, Refresh: a.Refresh, Updated: now}
	if secs, err := strconv.ParseInt(strings.TrimSpace(string(a.ExpiresIn)), 10, 64); err == nil && secs > 0 {
		t.Expires = now.Add(time.Duration(secs) * time.Second)
	}
	return t, nil
}

// failed remembers a failed refresh for failPause.
func (c *Client) failed(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.failErr, c.failAt = err, c.now()
}

// lastFailure is the refresh failure of the last failPause, if any.
func (c *Client) lastFailure() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.failErr != nil && c.now().Sub(c.failAt) < failPause {
		return c.failErr
	}
	return nil
}

// retryAfter is how long a send waits after a token problem: a short moment while
// another process refreshes, longer after a refresh failed.
func (c *Client) retryAfter(err error) time.Duration {
	if errors.Is(err, errRefreshing) {
		return 2 * time.Second
	}
	return failPause
}

// wait turns a token problem into a SendError that makes the delivery queue hold the
// reply and try again: a reply is never failed for a token the gateway can renew.
func wait(err error, after time.Duration) *bot.SendError {
	return &bot.SendError{Failure: bot.Held, RetryAfter: after, Detail: "zalo access token unavailable", Err: err}
}
