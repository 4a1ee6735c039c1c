package redisstore

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sangkien/sangkien/bot"
	"github.com/sangkien/sangkien/bot/redisstore/redistest"
)

// clock is a test's time, moved by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func newStaff(t *testing.T, o StaffOptions) (*Staff, *clock) {
	t.Helper()
	s, _ := newStore(t)
	c := &clock{t: time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)}
	o.Now = c.now
	return s.Staff(o), c
}

func addMember(t *testing.T, st *Staff, email string, role bot.Role) {
	t.Helper()
	if err := st.Add(context.Background(), bot.StaffMember{Email: email, Name: "Nguyễn Văn A", Role: role}, []byte("$2a$hash")); err != nil {
		t.Fatalf("Add(%s): %v", email, err)
	}
}

// member is the account of email as a login reads it.
func member(t *testing.T, st *Staff, email string) bot.StaffMember {
	t.Helper()
	m, err := st.Get(context.Background(), email)
	if err != nil {
		t.Fatalf("Get(%s): %v", email, err)
	}
	return m
}

func TestStaffAccounts(t *testing.T) {
	st, _ := newStaff(t, StaffOptions{})
	ctx := context.Background()
	addMember(t, st, " Lan@HaNoi.gov.vn ", bot.RoleAdmin)
	addMember(t, st, "an@hanoi.gov.vn", bot.RoleOperator)

	if err := st.Add(ctx, bot.StaffMember{Email: "LAN@hanoi.gov.vn", Role: bot.RoleOperator}, []byte("x")); !errors.Is(err, bot.ErrStaffExists) {
		t.Errorf("Add of the same email in other case = %v, want ErrStaffExists", err)
	}
	if err := st.Add(ctx, bot.StaffMember{Email: "x@y", Role: "boss"}, []byte("x")); !errors.Is(err, bot.ErrUnknownRole) {
		t.Errorf("Add with role boss = %v", err)
	}
	m, hash, err := st.Credentials(ctx, "LAN@hanoi.gov.vn")
	if err != nil || m.Email != "lan@hanoi.gov.vn" || m.Role != bot.RoleAdmin || string(hash) != "$2a$hash" || m.CreatedAt.IsZero() {
		t.Errorf("Credentials = %+v, %q, %v", m, hash, err)
	}
	if _, err := st.Get(ctx, "nobody@hanoi.gov.vn"); !errors.Is(err, bot.ErrUnknownStaff) {
		t.Errorf("Get unknown = %v", err)
	}
	list, err := st.List(ctx)
	if err != nil || len(list) != 2 || list[0].Email != "an@hanoi.gov.vn" || list[1].Email != "lan@hanoi.gov.vn" {
		t.Errorf("List = %+v, %v", list, err)
	}
	if err := st.SetPassword(ctx, "an@hanoi.gov.vn", []byte("$2a$new")); err != nil {
		t.Fatal(err)
	}
	if _, h, _ := st.Credentials(ctx, "an@hanoi.gov.vn"); string(h) != "$2a$new" {
		t.Errorf("hash after SetPassword = %q", h)
	}
	if err := st.Disable(ctx, "An@hanoi.gov.vn"); err != nil {
		t.Fatal(err)
	}
	if m, _ := st.Get(ctx, "an@hanoi.gov.vn"); !m.Disabled {
		t.Errorf("Disable left %+v enabled", m)
	}
	for name, err := range map[string]error{
		"Disable":     st.Disable(ctx, "nobody@x"),
		"SetPassword": st.SetPassword(ctx, "nobody@x", []byte("h")),
	} {
		if !errors.Is(err, bot.ErrUnknownStaff) {
			t.Errorf("%s of an unknown email = %v", name, err)
		}
	}
}

func TestStaffTokens(t *testing.T) {
	st, _ := newStaff(t, StaffOptions{})
	ctx := context.Background()
	addMember(t, st, "lan@hanoi.gov.vn", bot.RoleOperator)

	first, err := st.NewToken(ctx, "LAN@hanoi.gov.vn")
	if err != nil || !strings.HasPrefix(first, bot.StaffTokenPrefix) || len(first) < 40 {
		t.Fatalf("NewToken = %q, %v", first, err)
	}
	if m, err := st.ByToken(ctx, first); err != nil || m.Email != "lan@hanoi.gov.vn" || !m.HasToken {
		t.Errorf("ByToken = %+v, %v", m, err)
	}
	second, err := st.NewToken(ctx, "lan@hanoi.gov.vn")
	if err != nil || second == first {
		t.Fatalf("second NewToken = %q, %v", second, err)
	}
	if _, err := st.ByToken(ctx, first); !errors.Is(err, bot.ErrBadCredentials) {
		t.Errorf("replaced token still works: %v", err)
	}
	if _, err := st.ByToken(ctx, second); err != nil {
		t.Errorf("new token: %v", err)
	}
	for _, bad := range []string{"", "sk_nope", "Bearer " + second, strings.TrimPrefix(second, bot.StaffTokenPrefix)} {
		if _, err := st.ByToken(ctx, bad); !errors.Is(err, bot.ErrBadCredentials) {
			t.Errorf("ByToken(%q) = %v", bad, err)
		}
	}
	// The token is kept only as its hash.
	keys, err := redistest.Keys(ctx, st.c, st.prefix+"*")
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if strings.Contains(k, strings.TrimPrefix(second, bot.StaffTokenPrefix)) {
			t.Errorf("key %s holds the token in the clear", k)
		}
	}
	if _, err := st.NewToken(ctx, "nobody@x"); !errors.Is(err, bot.ErrUnknownStaff) {
		t.Errorf("NewToken unknown = %v", err)
	}
}

func TestStaffDisableEndsTokenAndSessions(t *testing.T) {
	st, _ := newStaff(t, StaffOptions{})
	ctx := context.Background()
	addMember(t, st, "lan@hanoi.gov.vn", bot.RoleOperator)
	addMember(t, st, "an@hanoi.gov.vn", bot.RoleOperator)
	tok, _ := st.NewToken(ctx, "lan@hanoi.gov.vn")
	s1, err := st.NewSession(ctx, member(t, st, "lan@hanoi.gov.vn"))
	if err != nil {
		t.Fatal(err)
	}
	s2, _ := st.NewSession(ctx, member(t, st, "lan@hanoi.gov.vn"))
	other, _ := st.NewSession(ctx, member(t, st, "an@hanoi.gov.vn"))
	if s1.ID == s2.ID || s1.CSRF == "" || s1.CSRF == s1.ID {
		t.Fatalf("sessions %+v %+v", s1, s2)
	}

	if err := st.Disable(ctx, "lan@hanoi.gov.vn"); err != nil {
		t.Fatal(err)
	}
	if _, err := st.ByToken(ctx, tok); !errors.Is(err, bot.ErrBadCredentials) {
		t.Errorf("token of a disabled account: %v", err)
	}
	for _, s := range []bot.StaffSession{s1, s2} {
		if _, _, err := st.Session(ctx, s.ID); !errors.Is(err, bot.ErrNoSession) {
			t.Errorf("session of a disabled account: %v", err)
		}
		if n := st.c.Exists(ctx, st.sessKey(s.ID)).Val(); n != 0 {
			t.Errorf("session key %s left behind", s.ID)
		}
	}
	if _, _, err := st.Session(ctx, other.ID); err != nil {
		t.Errorf("another account's session ended too: %v", err)
	}
	if _, err := st.NewSession(ctx, member(t, st, "lan@hanoi.gov.vn")); !errors.Is(err, bot.ErrUnknownStaff) {
		t.Errorf("NewSession of a disabled account = %v", err)
	}
	if _, err := st.NewToken(ctx, "lan@hanoi.gov.vn"); !errors.Is(err, bot.ErrStaffDisabled) {
		t.Errorf("NewToken of a disabled account = %v", err)
	}
}

func TestStaffPasswordEndsSessions(t *testing.T) {
	st, c := newStaff(t, StaffOptions{})
	ctx := context.Background()
	addMember(t, st, "lan@hanoi.gov.vn", bot.RoleOperator)
	old, _ := st.NewSession(ctx, member(t, st, "lan@hanoi.gov.vn"))
	c.add(time.Second)
	if err := st.SetPassword(ctx, "lan@hanoi.gov.vn", []byte("$2a$new")); err != nil {
		t.Fatal(err)
	}
	if _, _, err := st.Session(ctx, old.ID); !errors.Is(err, bot.ErrNoSession) {
		t.Errorf("session from before the password change: %v", err)
	}
	c.add(time.Second)
	fresh, _ := st.NewSession(ctx, member(t, st, "lan@hanoi.gov.vn"))
	if _, m, err := st.Session(ctx, fresh.ID); err != nil || m.Email != "lan@hanoi.gov.vn" {
		t.Errorf("session after the change = %+v, %v", m, err)
	}
}

func TestStaffSessionTimeouts(t *testing.T) {
	st, c := newStaff(t, StaffOptions{SessionIdle: time.Hour, SessionAbsolute: 3 * time.Hour})
	ctx := context.Background()
	addMember(t, st, "lan@hanoi.gov.vn", bot.RoleOperator)

	s, err := st.NewSession(ctx, member(t, st, "lan@hanoi.gov.vn"))
	if err != nil {
		t.Fatal(err)
	}
	if ttl := st.c.PTTL(ctx, st.sessKey(s.ID)).Val(); ttl <= 0 || ttl > time.Hour {
		t.Errorf("session TTL %s, want the idle timeout", ttl)
	}
	// Used every 50 minutes, it lives until its absolute end.
	for range 3 {
		c.add(50 * time.Minute)
		got, _, err := st.Session(ctx, s.ID)
		if err != nil || got.CSRF != s.CSRF || !got.LastSeen.Equal(c.now().Truncate(time.Millisecond)) {
			t.Fatalf("Session at %s = %+v, %v", c.now(), got, err)
		}
	}
	// 2h30 in, the TTL is capped by the 30 minutes left.
	if ttl := st.c.PTTL(ctx, st.sessKey(s.ID)).Val(); ttl <= 0 || ttl > 30*time.Minute {
		t.Errorf("TTL near the absolute end = %s", ttl)
	}
	c.add(31 * time.Minute)
	if _, _, err := st.Session(ctx, s.ID); !errors.Is(err, bot.ErrNoSession) {
		t.Errorf("past the absolute timeout: %v", err)
	}

	idle, _ := st.NewSession(ctx, member(t, st, "lan@hanoi.gov.vn"))
	c.add(time.Hour)
	if _, _, err := st.Session(ctx, idle.ID); !errors.Is(err, bot.ErrNoSession) {
		t.Errorf("idle for the idle timeout: %v", err)
	}

	out, _ := st.NewSession(ctx, member(t, st, "lan@hanoi.gov.vn"))
	if err := st.DeleteSession(ctx, out.ID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := st.Session(ctx, out.ID); !errors.Is(err, bot.ErrNoSession) {
		t.Errorf("after logout: %v", err)
	}
}

// TestStaffSessionRedisExpiry checks that Redis itself drops an idle session: the TTL,
// not only the clock check, ends it.
func TestStaffSessionRedisExpiry(t *testing.T) {
	s, _ := newStore(t)
	st := s.Staff(StaffOptions{SessionIdle: 30 * time.Millisecond})
	ctx := context.Background()
	addMember(t, st, "lan@hanoi.gov.vn", bot.RoleOperator)
	sess, err := st.NewSession(ctx, member(t, st, "lan@hanoi.gov.vn"))
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(80 * time.Millisecond)
	if n := st.c.Exists(ctx, st.sessKey(sess.ID)).Val(); n != 0 {
		t.Errorf("idle session key still there")
	}
	if _, _, err := st.Session(ctx, sess.ID); !errors.Is(err, bot.ErrNoSession) {
		t.Errorf("Session = %v", err)
	}
}

func TestStaffLoginLimit(t *testing.T) {
	st, _ := newStaff(t, StaffOptions{AccountFailures: 3, AddressFailures: 5, FailureWindow: time.Minute})
	ctx := context.Background()
	const addr = "203.0.113.5:41000"

	for i := range 3 {
		if err := st.LoginAttempt(ctx, "Lan@hanoi.gov.vn", addr); err != nil {
			t.Fatalf("attempt %d refused: %v", i+1, err)
		}
	}
	if err := st.LoginAttempt(ctx, "LAN@hanoi.gov.vn", "198.51.100.7:1"); !errors.Is(err, bot.ErrTooManyAttempts) {
		t.Errorf("fourth attempt on the account from elsewhere = %v", err)
	}
	if ttl := st.c.PTTL(ctx, st.failAcctKey("lan@hanoi.gov.vn")).Val(); ttl <= 0 || ttl > time.Minute {
		t.Errorf("counter TTL %s", ttl)
	}
	// A refused attempt is not counted: the address has 3, not 4.
	if n := st.c.Get(ctx, st.failAddrKey(addr)).Val(); n != "3" {
		t.Errorf("address counter = %q, want 3", n)
	}
	// Another account from the same address still may, until the address's limit.
	if err := st.LoginAttempt(ctx, "an@hanoi.gov.vn", "203.0.113.5:5000"); err != nil {
		t.Errorf("other account: %v", err)
	}
	if err := st.LoginAttempt(ctx, "binh@hanoi.gov.vn", addr); err != nil {
		t.Errorf("fifth attempt from the address: %v", err)
	}
	if err := st.LoginAttempt(ctx, "chi@hanoi.gov.vn", "203.0.113.5:6000"); !errors.Is(err, bot.ErrTooManyAttempts) {
		t.Errorf("sixth attempt from one address (any port) = %v", err)
	}
	// A success forgets the account's attempts and takes back its own on the
	// address: the address's four others stay counted.
	if err := st.LoginSucceeded(ctx, "binh@hanoi.gov.vn", addr); err != nil {
		t.Fatal(err)
	}
	if err := st.LoginSucceeded(ctx, "lan@hanoi.gov.vn", "198.51.100.7:1"); err != nil {
		t.Fatal(err)
	}
	if err := st.LoginAttempt(ctx, "lan@hanoi.gov.vn", "198.51.100.7:1"); err != nil {
		t.Errorf("after a success: %v", err)
	}
	if err := st.LoginAttempt(ctx, "dung@hanoi.gov.vn", addr); err != nil {
		t.Errorf("the address after a success on it: %v", err)
	}
	if err := st.LoginAttempt(ctx, "dung@hanoi.gov.vn", addr); !errors.Is(err, bot.ErrTooManyAttempts) {
		t.Errorf("the address at its limit again = %v", err)
	}
	// A success where the address counts nothing (its window ended) leaves no
	// negative count behind.
	if err := st.LoginSucceeded(ctx, "lan@hanoi.gov.vn", "192.0.2.1:1"); err != nil {
		t.Fatal(err)
	}
	if n := st.c.Exists(ctx, st.failAddrKey("192.0.2.1:1")).Val(); n != 0 {
		t.Errorf("a success created a counter for an address without attempts")
	}
}
