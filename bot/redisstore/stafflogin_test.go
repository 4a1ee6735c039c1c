package redisstore

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sangkien/sangkien/bot"
)

// Many parallel attempts on one account: exactly the limit get through to the
// password check, since each is counted before it, in one script.
func TestStaffLoginAttemptsInParallel(t *testing.T) {
	st, _ := newStaff(t, StaffOptions{AccountFailures: 5, AddressFailures: 1000, FailureWindow: time.Minute})
	ctx := context.Background()
	var passed, refused atomic.Int64
	var wg sync.WaitGroup
	for i := range 200 {
		wg.Go(func() {
			addr := "198.51.100." + string(rune('0'+i%10)) + ":1"
			switch err := st.LoginAttempt(ctx, "lan@hanoi.gov.vn", addr); {
			case err == nil:
				passed.Add(1)
			case errors.Is(err, bot.ErrTooManyAttempts):
				refused.Add(1)
			default:
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if passed.Load() != 5 || refused.Load() != 195 {
		t.Errorf("%d passed, %d refused; want 5 and 195", passed.Load(), refused.Load())
	}
}

// IPv6 clients count per /64; IPv4 (also mapped into IPv6) per address.
func TestStaffLoginAddressBlocks(t *testing.T) {
	st, _ := newStaff(t, StaffOptions{AccountFailures: 100, AddressFailures: 2, FailureWindow: time.Minute})
	ctx := context.Background()
	for _, addr := range []string{"[2001:db8:1:2::1]:443", "[2001:DB8:1:2:ffff:1:2:3%eth0]:80"} {
		if err := st.LoginAttempt(ctx, "a@hanoi.gov.vn", addr); err != nil {
			t.Fatalf("%s: %v", addr, err)
		}
	}
	if err := st.LoginAttempt(ctx, "b@hanoi.gov.vn", "[2001:db8:1:2:abcd::9]:1"); !errors.Is(err, bot.ErrTooManyAttempts) {
		t.Errorf("a third address of the same /64 = %v", err)
	}
	if err := st.LoginAttempt(ctx, "b@hanoi.gov.vn", "[2001:db8:1:3::1]:1"); err != nil {
		t.Errorf("the next /64: %v", err)
	}
	for _, addr := range []string{"203.0.113.7:1", "[::ffff:203.0.113.7]:2"} {
		if err := st.LoginAttempt(ctx, "c@hanoi.gov.vn", addr); err != nil {
			t.Fatalf("%s: %v", addr, err)
		}
	}
	if err := st.LoginAttempt(ctx, "c@hanoi.gov.vn", "203.0.113.7:3"); !errors.Is(err, bot.ErrTooManyAttempts) {
		t.Errorf("an IPv4 address written both ways counts once: %v", err)
	}
	if err := st.LoginAttempt(ctx, "c@hanoi.gov.vn", "203.0.113.8:3"); err != nil {
		t.Errorf("the next IPv4 address: %v", err)
	}
	for addr, want := range map[string]string{
		"[2001:db8:1:2:3:4:5:6]:443": "2001:db8:1:2::/64", "[::ffff:10.0.0.1]:1": "10.0.0.1",
		"192.0.2.1:5": "192.0.2.1", "": "unknown", "pipe": "pipe",
	} {
		if got := clientHost(addr); got != want {
			t.Errorf("clientHost(%q) = %q, want %q", addr, got, want)
		}
	}
}

// FirstRefusal is true once per address and window.
func TestStaffFirstRefusal(t *testing.T) {
	st, _ := newStaff(t, StaffOptions{FailureWindow: time.Minute})
	ctx := context.Background()
	var firsts []bool
	for _, addr := range []string{"203.0.113.5:1", "203.0.113.5:2", "203.0.113.5:3", "203.0.113.6:1"} {
		first, err := st.FirstRefusal(ctx, addr)
		if err != nil {
			t.Fatal(err)
		}
		firsts = append(firsts, first)
	}
	if !slices.Equal(firsts, []bool{true, false, false, true}) {
		t.Errorf("firsts = %v", firsts)
	}
	if ttl := st.c.PTTL(ctx, st.refusedKey("203.0.113.5:1")).Val(); ttl <= 0 || ttl > time.Minute {
		t.Errorf("TTL %s, want the failure window", ttl)
	}
}

// A password set between the login's read of the account and NewSession: the session
// is refused, and none is left in Redis.
func TestStaffNewSessionAfterPasswordChange(t *testing.T) {
	st, c := newStaff(t, StaffOptions{})
	ctx := context.Background()
	addMember(t, st, "lan@hanoi.gov.vn", bot.RoleOperator)
	read := member(t, st, "lan@hanoi.gov.vn")
	c.add(time.Second)
	if err := st.SetPassword(ctx, "lan@hanoi.gov.vn", []byte("$2a$new")); err != nil {
		t.Fatal(err)
	}
	c.add(time.Second)
	if _, err := st.NewSession(ctx, read); !errors.Is(err, bot.ErrBadCredentials) {
		t.Fatalf("NewSession with the credentials read before the change = %v, want ErrBadCredentials", err)
	}
	if n := st.c.SCard(ctx, st.sessOfKey("lan@hanoi.gov.vn")).Val(); n != 0 {
		t.Errorf("%d sessions opened", n)
	}
	// Read again, the account opens one.
	if _, err := st.NewSession(ctx, member(t, st, "lan@hanoi.gov.vn")); err != nil {
		t.Errorf("NewSession after reading the account again: %v", err)
	}
}

// A session holds the password time it was opened under: one that SetPassword did not
// find (opened after it listed the account's sessions) in the same millisecond as the
// change, so that no creation time tells them apart, still ends.
func TestStaffSessionOfTheSameMillisecond(t *testing.T) {
	st, _ := newStaff(t, StaffOptions{})
	ctx := context.Background()
	addMember(t, st, "lan@hanoi.gov.vn", bot.RoleOperator)
	st.o.Now = func() time.Time { return time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC) }
	sess, err := st.NewSession(ctx, member(t, st, "lan@hanoi.gov.vn"))
	if err != nil {
		t.Fatal(err)
	}
	// As if opened after SetPassword read the account's session set.
	st.c.SRem(ctx, st.sessOfKey("lan@hanoi.gov.vn"), sess.ID)
	if err := st.SetPassword(ctx, "lan@hanoi.gov.vn", []byte("$2a$new")); err != nil {
		t.Fatal(err)
	}
	if n := st.c.Exists(ctx, st.sessKey(sess.ID)).Val(); n != 1 {
		t.Fatal("the session the change missed is not there to test")
	}
	if _, _, err := st.Session(ctx, sess.ID); !errors.Is(err, bot.ErrNoSession) {
		t.Errorf("a session of the old password: %v", err)
	}
	fresh, err := st.NewSession(ctx, member(t, st, "lan@hanoi.gov.vn"))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := st.Session(ctx, fresh.ID); err != nil {
		t.Errorf("a session of the new password, in the same millisecond: %v", err)
	}
}

// DeleteSession takes the id out of the account's session set; a login prunes the
// ids of sessions that timed out.
func TestStaffDeleteSessionForgetsTheID(t *testing.T) {
	st, c := newStaff(t, StaffOptions{SessionIdle: time.Hour})
	ctx := context.Background()
	addMember(t, st, "lan@hanoi.gov.vn", bot.RoleOperator)
	ids := func() []string {
		got := st.c.SMembers(ctx, st.sessOfKey("lan@hanoi.gov.vn")).Val()
		slices.Sort(got)
		return got
	}
	a, _ := st.NewSession(ctx, member(t, st, "lan@hanoi.gov.vn"))
	b, _ := st.NewSession(ctx, member(t, st, "lan@hanoi.gov.vn"))
	if err := st.DeleteSession(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	if got := ids(); !slices.Equal(got, []string{b.ID}) {
		t.Errorf("after a logout the set holds %v, want only %s", got, b.ID)
	}
	if err := st.DeleteSession(ctx, "no-such-session"); err != nil {
		t.Errorf("DeleteSession of an unknown id: %v", err)
	}
	// b times out (Redis drops its key); the next login drops its id.
	st.c.Del(ctx, st.sessKey(b.ID))
	c.add(2 * time.Hour)
	d, _ := st.NewSession(ctx, member(t, st, "lan@hanoi.gov.vn"))
	if got := ids(); !slices.Equal(got, []string{d.ID}) {
		t.Errorf("after a login the set holds %v, want only %s", got, d.ID)
	}
}
