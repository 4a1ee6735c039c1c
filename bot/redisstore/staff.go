package redisstore

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sangkien/sangkien/bot"
)

// Defaults for the zero fields of StaffOptions.
const (
	DefaultSessionIdle     = 8 * time.Hour
	DefaultSessionAbsolute = 12 * time.Hour
	DefaultAccountFailures = 5
	DefaultAddressFailures = 20
	DefaultFailureWindow   = 15 * time.Minute
)

// StaffOptions configures the staff keeper. Zero fields take the defaults above.
type StaffOptions struct {
	// SessionIdle ends a console session nobody used for that long (CONSOLE_SESSION_IDLE).
	SessionIdle time.Duration
	// SessionAbsolute ends a session that long after its login, used or not: a working
	// day and a half, so a stolen cookie is worth one day at most.
	SessionAbsolute time.Duration
	// AccountFailures and AddressFailures are the failed logins allowed per account
	// and per client address within FailureWindow.
	AccountFailures int
	AddressFailures int
	FailureWindow   time.Duration
	// Now is the clock (time.Now when nil); tests move it.
	Now func() time.Time
}

// Staff keeps the console's staff accounts, their API tokens, their console sessions
// and the login limiter. Every key is under one hash tag, {staff}: staff are a few
// hundred accounts at most, and one slot lets each change be one script on a cluster.
//
// Passwords and tokens are never stored: an account holds its bcrypt hash (made by
// the caller) and the SHA-256 of its token. A session or a token is checked against
// its account on every use, so a disabled account or a changed password voids them
// even if a key deleted alongside were missed.
type Staff struct {
	c      redis.UniversalClient
	prefix string
	o      StaffOptions
}

// Staff returns the store's staff keeper.
func (s *Store) Staff(o StaffOptions) *Staff {
	if o.SessionIdle <= 0 {
		o.SessionIdle = DefaultSessionIdle
	}
	if o.SessionAbsolute <= 0 {
		o.SessionAbsolute = DefaultSessionAbsolute
	}
	if o.AccountFailures <= 0 {
		o.AccountFailures = DefaultAccountFailures
	}
	if o.AddressFailures <= 0 {
		o.AddressFailures = DefaultAddressFailures
	}
	if o.FailureWindow <= 0 {
		o.FailureWindow = DefaultFailureWindow
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Staff{c: s.c, prefix: s.prefix + ":{staff}:", o: o}
}

func (st *Staff) acctKey(email string) string   { return st.prefix + "acct:" + email }
func (st *Staff) acctsKey() string              { return st.prefix + "accts" }
func (st *Staff) tokKey(hash string) string     { return st.prefix + "tok:" + hash }
func (st *Staff) sessKey(id string) string      { return st.prefix + "sess:" + id }
func (st *Staff) sessOfKey(email string) string { return st.prefix + "sessof:" + email }
func (st *Staff) failAcctKey(email string) string {
	return st.prefix + "fail:acct:" + email
}
func (st *Staff) failAddrKey(addr string) string { return st.prefix + "fail:addr:" + clientHost(addr) }
func (st *Staff) refusedKey(addr string) string {
	return st.prefix + "fail:refused:" + clientHost(addr)
}

// addStaffScript creates an account unless one exists.
//
// KEYS: acct, accts. ARGV: email, name, role, created ms, password hash.
var addStaffScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then
  return 'exists'
end
redis.call('HSET', KEYS[1], 'email', ARGV[1], 'name', ARGV[2], 'role', ARGV[3],
  'disabled', '0', 'created', ARGV[4], 'pwat', ARGV[4], 'pw', ARGV[5])
redis.call('SADD', KEYS[2], ARGV[1])
return 'ok'
`)

// Add creates the account m (its Email normalized) with the bcrypt hash of its
// password; bot.ErrStaffExists when the email is taken.
func (st *Staff) Add(ctx context.Context, m bot.StaffMember, passwordHash []byte) error {
	email := bot.NormalizeEmail(m.Email)
	if email == "" || len(passwordHash) == 0 {
		return errors.New("staff add: email and password hash are required")
	}
	if _, err := bot.ParseRole(string(m.Role)); err != nil {
		return fmt.Errorf("staff add: %w", err)
	}
	res, err := addStaffScript.Run(ctx, st.c, []string{st.acctKey(email), st.acctsKey()},
		email, m.Name, string(m.Role), st.o.Now().UnixMilli(), passwordHash).Text()
	if err != nil {
		return fmt.Errorf("staff add: %w", err)
	}
	if res == "exists" {
		return bot.ErrStaffExists
	}
	return nil
}

// Get returns the account of email; bot.ErrUnknownStaff when there is none.
func (st *Staff) Get(ctx context.Context, email string) (bot.StaffMember, error) {
	m, _, err := st.Credentials(ctx, email)
	return m, err
}

// Credentials returns the account of email and its password hash, for a login.
func (st *Staff) Credentials(ctx context.Context, email string) (bot.StaffMember, []byte, error) {
	f, err := st.c.HGetAll(ctx, st.acctKey(bot.NormalizeEmail(email))).Result()
	if err != nil {
		return bot.StaffMember{}, nil, fmt.Errorf("staff: %w", err)
	}
	if len(f) == 0 {
		return bot.StaffMember{}, nil, bot.ErrUnknownStaff
	}
	return memberOf(f), []byte(f["pw"]), nil
}

// List returns every account, by email.
func (st *Staff) List(ctx context.Context) ([]bot.StaffMember, error) {
	emails, err := st.c.SMembers(ctx, st.acctsKey()).Result()
	if err != nil {
		return nil, fmt.Errorf("staff list: %w", err)
	}
	slices.Sort(emails)
	pipe := st.c.Pipeline()
	cmds := make([]*redis.MapStringStringCmd, len(emails))
	for i, e := range emails {
		cmds[i] = pipe.HGetAll(ctx, st.acctKey(e))
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, fmt.Errorf("staff list: %w", err)
	}
	out := make([]bot.StaffMember, 0, len(emails))
	for _, c := range cmds {
		if f := c.Val(); len(f) > 0 {
			out = append(out, memberOf(f))
		}
	}
	return out, nil
}

// revokeScript changes an account and deletes its sessions (and, on disable, its
// token) in one step.
//
// KEYS: acct, sessof, then keys to delete. ARGV: "disable" or "password", password
// hash, now ms.
var revokeScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then
  return 'unknown'
end
if ARGV[1] == 'disable' then
  redis.call('HSET', KEYS[1], 'disabled', '1')
  redis.call('HDEL', KEYS[1], 'tok')
else
  -- The password time only grows, even within one millisecond: a login tells a
  -- changed password by it (newSessionScript).
  local at = math.max(tonumber(ARGV[3]), tonumber(redis.call('HGET', KEYS[1], 'pwat') or '0') + 1)
  redis.call('HSET', KEYS[1], 'pw', ARGV[2], 'pwat', string.format('%d', at))
end
for i = 2, #KEYS do
  redis.call('DEL', KEYS[i])
end
return 'ok'
`)

// Disable disables the account of email: its token and its sessions stop working.
func (st *Staff) Disable(ctx context.Context, email string) error {
	return st.revoke(ctx, "disable", email, nil)
}

// SetPassword replaces the account's password hash and ends its sessions.
func (st *Staff) SetPassword(ctx context.Context, email string, passwordHash []byte) error {
	if len(passwordHash) == 0 {
		return errors.New("staff password: hash is required")
	}
	return st.revoke(ctx, "password", email, passwordHash)
}

func (st *Staff) revoke(ctx context.Context, op, email string, hash []byte) error {
	email = bot.NormalizeEmail(email)
	ids, err := st.c.SMembers(ctx, st.sessOfKey(email)).Result()
	if err != nil {
		return fmt.Errorf("staff %s: %w", op, err)
	}
	keys := []string{st.acctKey(email), st.sessOfKey(email)}
	for _, id := range ids {
		keys = append(keys, st.sessKey(id))
	}
	if op == "disable" {
		if tok, _ := st.c.HGet(ctx, st.acctKey(email), "tok").Result(); tok != "" {
			keys = append(keys, st.tokKey(tok))
		}
	}
	res, err := revokeScript.Run(ctx, st.c, keys, op, hash, st.o.Now().UnixMilli()).Text()
	if err != nil {
		return fmt.Errorf("staff %s: %w", op, err)
	}
	if res == "unknown" {
		return bot.ErrUnknownStaff
	}
	return nil
}

// tokenScript gives an account a new token hash, dropping its previous one.
//
// KEYS: acct, new tok, old tok (or none). ARGV: email, new hash, old hash.
var tokenScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then
  return 'unknown'
end
if redis.call('HGET', KEYS[1], 'disabled') == '1' then
  return 'disabled'
end
if KEYS[3] and redis.call('HGET', KEYS[1], 'tok') == ARGV[3] then
  redis.call('DEL', KEYS[3])
end
redis.call('SET', KEYS[2], ARGV[1])
redis.call('HSET', KEYS[1], 'tok', ARGV[2])
return 'ok'
`)

// NewToken makes the account's API token, replacing its previous one, and returns it:
// it is shown once and kept only as its SHA-256.
func (st *Staff) NewToken(ctx context.Context, email string) (string, error) {
	email = bot.NormalizeEmail(email)
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("staff token: %w", err)
	}
	token := bot.StaffTokenPrefix + base64.RawURLEncoding.EncodeToString(b[:])
	hash := tokenHash(token)
	old, err := st.c.HGet(ctx, st.acctKey(email), "tok").Result()
	if err != nil && !errors.Is(err, redis.Nil) {
		return "", fmt.Errorf("staff token: %w", err)
	}
	keys := []string{st.acctKey(email), st.tokKey(hash)}
	if old != "" {
		keys = append(keys, st.tokKey(old))
	}
	res, err := tokenScript.Run(ctx, st.c, keys, email, hash, old).Text()
	if err != nil {
		return "", fmt.Errorf("staff token: %w", err)
	}
	switch res {
	case "unknown":
		return "", bot.ErrUnknownStaff
	case "disabled":
		return "", bot.ErrStaffDisabled
	}
	return token, nil
}

// ByToken returns the account whose current token is token; bot.ErrBadCredentials for
// an unknown, replaced or revoked token, or a disabled account.
func (st *Staff) ByToken(ctx context.Context, token string) (bot.StaffMember, error) {
	if !strings.HasPrefix(token, bot.StaffTokenPrefix) {
		return bot.StaffMember{}, bot.ErrBadCredentials
	}
	hash := tokenHash(token)
	email, err := st.c.Get(ctx, st.tokKey(hash)).Result()
	if errors.Is(err, redis.Nil) {
		return bot.StaffMember{}, bot.ErrBadCredentials
	}
	if err != nil {
		return bot.StaffMember{}, fmt.Errorf("staff token: %w", err)
	}
	f, err := st.c.HGetAll(ctx, st.acctKey(email)).Result()
	if err != nil {
		return bot.StaffMember{}, fmt.Errorf("staff token: %w", err)
	}
	if len(f) == 0 || f["tok"] != hash || f["disabled"] == "1" {
		return bot.StaffMember{}, bot.ErrBadCredentials
	}
	return memberOf(f), nil
}

// newSessionScript opens a session for an enabled account whose password is still the
// one the login checked: a password set between the login's read of the hash and this
// step ('changed') must not leave a session behind, dated after the change.
//
// KEYS: acct, sess, sessof. ARGV: id, email, csrf, now ms, idle ms, absolute ms,
// password time ms as the login read it.
var newSessionScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 or redis.call('HGET', KEYS[1], 'disabled') == '1' then
  return 'no'
end
local pwat = redis.call('HGET', KEYS[1], 'pwat') or '0'
if pwat ~= ARGV[7] then
  return 'changed'
end
redis.call('HSET', KEYS[2], 'email', ARGV[2], 'csrf', ARGV[3], 'created', ARGV[4], 'seen', ARGV[4], 'pwat', pwat)
redis.call('PEXPIRE', KEYS[2], ARGV[5])
redis.call('SADD', KEYS[3], ARGV[1])
redis.call('PEXPIRE', KEYS[3], ARGV[6])
return 'ok'
`)

// NewSession opens a console session for m, the account as its login read it: a new
// random id every time, so a login rotates the session id. bot.ErrUnknownStaff when
// the account is gone or disabled; bot.ErrBadCredentials when its password changed
// since m was read (the login checked a password that no longer holds).
func (st *Staff) NewSession(ctx context.Context, m bot.StaffMember) (bot.StaffSession, error) {
	email := bot.NormalizeEmail(m.Email)
	now := st.o.Now()
	sess := bot.StaffSession{ID: randomString(), Email: email, CSRF: randomString(),
		Created: now.Truncate(time.Millisecond), LastSeen: now.Truncate(time.Millisecond)}
	st.pruneSessions(ctx, email)
	idle := min(st.o.SessionIdle, st.o.SessionAbsolute)
	res, err := newSessionScript.Run(ctx, st.c,
		[]string{st.acctKey(email), st.sessKey(sess.ID), st.sessOfKey(email)},
		sess.ID, email, sess.CSRF, now.UnixMilli(), millis(idle), millis(st.o.SessionAbsolute),
		passwordMillis(m.PasswordAt)).Text()
	if err != nil {
		return bot.StaffSession{}, fmt.Errorf("staff session: %w", err)
	}
	switch res {
	case "ok":
		return sess, nil
	case "changed":
		return bot.StaffSession{}, bot.ErrBadCredentials
	}
	return bot.StaffSession{}, bot.ErrUnknownStaff
}

// pruneSessions drops from the account's session set the ids of sessions that ended
// by themselves (idle or absolute timeout), so that the set holds live ones only. It
// is best effort: a failure leaves ids that the next login prunes.
func (st *Staff) pruneSessions(ctx context.Context, email string) {
	ids, err := st.c.SMembers(ctx, st.sessOfKey(email)).Result()
	if err != nil || len(ids) == 0 {
		return
	}
	pipe := st.c.Pipeline()
	exists := make([]*redis.IntCmd, len(ids))
	for i, id := range ids {
		exists[i] = pipe.Exists(ctx, st.sessKey(id))
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return
	}
	var gone []any
	for i, c := range exists {
		if c.Val() == 0 {
			gone = append(gone, ids[i])
		}
	}
	if len(gone) > 0 {
		_ = st.c.SRem(ctx, st.sessOfKey(email), gone...).Err()
	}
}

// passwordMillis is the account's password time as the account hash keeps it ("0"
// for none).
func passwordMillis(t time.Time) string {
	if t.IsZero() {
		return "0"
	}
	return strconv.FormatInt(t.UnixMilli(), 10)
}

// touchScript reads a live session and extends its idle time, never past its
// absolute end.
//
// KEYS: sess. ARGV: now ms, idle ms, absolute ms.
var touchScript = redis.NewScript(`
local f = redis.call('HMGET', KEYS[1], 'email', 'csrf', 'created', 'seen', 'pwat')
if not f[1] then
  return false
end
local now, idle, abs = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local created, seen = tonumber(f[3]), tonumber(f[4])
local left = created + abs - now
if now - seen >= idle or left <= 0 then
  redis.call('DEL', KEYS[1])
  return false
end
redis.call('HSET', KEYS[1], 'seen', ARGV[1])
redis.call('PEXPIRE', KEYS[1], math.min(idle, left))
return {f[1], f[2], f[3], f[5] or ''}
`)

// Session returns the live session id and its account, and counts this as a use
// (the idle timeout starts again). bot.ErrNoSession for an unknown or expired session,
// one of a disabled account, or one opened under another password than the current.
func (st *Staff) Session(ctx context.Context, id string) (bot.StaffSession, bot.StaffMember, error) {
	now := st.o.Now()
	res, err := touchScript.Run(ctx, st.c, []string{st.sessKey(id)},
		now.UnixMilli(), millis(st.o.SessionIdle), millis(st.o.SessionAbsolute)).StringSlice()
	if errors.Is(err, redis.Nil) {
		return bot.StaffSession{}, bot.StaffMember{}, bot.ErrNoSession
	}
	if err != nil {
		return bot.StaffSession{}, bot.StaffMember{}, fmt.Errorf("staff session: %w", err)
	}
	sess := bot.StaffSession{ID: id, Email: res[0], CSRF: res[1], Created: fromMillis(res[2]),
		LastSeen: now.Truncate(time.Millisecond)}
	m, err := st.Get(ctx, sess.Email)
	// A session knows the password time it was opened under (res[3]); one opened
	// before sessions kept it is checked by its creation time.
	stale := res[3] != passwordMillis(m.PasswordAt)
	if res[3] == "" {
		stale = sess.Created.Before(m.PasswordAt)
	}
	if errors.Is(err, bot.ErrUnknownStaff) || err == nil && (m.Disabled || stale) {
		_ = st.DeleteSession(ctx, id)
		return bot.StaffSession{}, bot.StaffMember{}, bot.ErrNoSession
	}
	if err != nil {
		return bot.StaffSession{}, bot.StaffMember{}, err
	}
	return sess, m, nil
}

// DeleteSession ends one session (a logout) and takes its id out of its account's
// session set.
func (st *Staff) DeleteSession(ctx context.Context, id string) error {
	email, err := st.c.HGet(ctx, st.sessKey(id), "email").Result()
	if err != nil && !errors.Is(err, redis.Nil) {
		return fmt.Errorf("staff logout: %w", err)
	}
	_, err = st.c.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Del(ctx, st.sessKey(id))
		if email != "" {
			p.SRem(ctx, st.sessOfKey(email), id)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("staff logout: %w", err)
	}
	return nil
}

// attemptScript counts a login attempt against the account and the address before
// its password is checked, unless either is at its limit: parallel attempts cannot
// all read a count below the limit and then all go on to bcrypt.
//
// KEYS: account counter, address counter. ARGV: account limit, address limit,
// window ms.
var attemptScript = redis.NewScript(`
local acct = tonumber(redis.call('GET', KEYS[1]) or '0')
local addr = tonumber(redis.call('GET', KEYS[2]) or '0')
if acct >= tonumber(ARGV[1]) or addr >= tonumber(ARGV[2]) then
  return 'limit'
end
for i = 1, #KEYS do
  redis.call('INCR', KEYS[i])
  if redis.call('PTTL', KEYS[i]) < 0 then
    redis.call('PEXPIRE', KEYS[i], ARGV[3])
  end
end
return 'ok'
`)

// LoginAttempt counts one login attempt on the account of email (whether or not it
// exists) and on the client address, and answers bot.ErrTooManyAttempts instead when
// either already counts its limit within the window. It runs before the password is
// checked; LoginSucceeded takes back what a successful attempt counted.
//
// The address is addr's host without its port; IPv6 addresses count per /64, the
// block one subscriber usually holds.
func (st *Staff) LoginAttempt(ctx context.Context, email, addr string) error {
	res, err := attemptScript.Run(ctx, st.c,
		[]string{st.failAcctKey(bot.NormalizeEmail(email)), st.failAddrKey(addr)},
		st.o.AccountFailures, st.o.AddressFailures, millis(st.o.FailureWindow)).Text()
	if err != nil {
		return fmt.Errorf("staff login limit: %w", err)
	}
	if res == "limit" {
		return bot.ErrTooManyAttempts
	}
	return nil
}

// FirstRefusal reports whether this is the first login refused for the limit from
// addr's address within the window: the audit notes that one, not each of a flood.
func (st *Staff) FirstRefusal(ctx context.Context, addr string) (bool, error) {
	ok, err := st.c.SetNX(ctx, st.refusedKey(addr), 1, st.o.FailureWindow).Result()
	if err != nil {
		return false, fmt.Errorf("staff login limit: %w", err)
	}
	return ok, nil
}

// successScript forgets an account's attempts and takes back the one attempt the
// successful login counted on its address.
//
// KEYS: account counter, address counter.
var successScript = redis.NewScript(`
redis.call('DEL', KEYS[1])
if tonumber(redis.call('GET', KEYS[2]) or '0') > 0 then
  redis.call('DECR', KEYS[2])
end
return 'ok'
`)

// LoginSucceeded forgets the account's attempts and un-counts this login's attempt on
// the address: staff behind one office address are not locked out by their own
// logins, while the address's failures stay counted.
func (st *Staff) LoginSucceeded(ctx context.Context, email, addr string) error {
	err := successScript.Run(ctx, st.c,
		[]string{st.failAcctKey(bot.NormalizeEmail(email)), st.failAddrKey(addr)}).Err()
	if err != nil {
		return fmt.Errorf("staff login limit: %w", err)
	}
	return nil
}

func memberOf(f map[string]string) bot.StaffMember {
	return bot.StaffMember{
		Email: f["email"], Name: f["name"], Role: bot.Role(f["role"]),
		Disabled: f["disabled"] == "1", CreatedAt: fromMillis(f["created"]),
		PasswordAt: fromMillis(f["pwat"]), HasToken: f["tok"] != "",
	}
}

func fromMillis(s string) time.Time {
	ms, err := strconv.ParseInt(s, 10, 64)
	if err != nil || ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms)
}

func tokenHash(token string) string {
	h := sha256.Sum256([]byte(token))
	return hex.EncodeToString(h[:])
}

// randomString is 32 random bytes, URL-safe: session ids and CSRF tokens.
func randomString() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// clientHost is the host part of a client address ("203.0.113.5:41000" →
// "203.0.113.5"), an IPv6 address reduced to its /64 ("[2001:db8:1:2::9]:443" →
// "2001:db8:1:2::/64"): one subscriber gets a whole /64 and could otherwise use a new
// address for every attempt.
func clientHost(addr string) string {
	if h, _, err := net.SplitHostPort(addr); err == nil {
		addr = h
	}
	if ip, err := netip.ParseAddr(addr); err == nil {
		ip = ip.Unmap().WithZone("")
		if ip.Is6() {
			return netip.PrefixFrom(ip, 64).Masked().String()
		}
		return ip.String()
	}
	if addr == "" {
		return "unknown"
	}
	return strings.ToLower(addr)
}
