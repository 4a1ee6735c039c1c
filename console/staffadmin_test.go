package console_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/sangkien/sangkien/bot"
	"github.com/sangkien/sangkien/bot/redisstore"
	"github.com/sangkien/sangkien/bot/redisstore/redistest"
	"github.com/sangkien/sangkien/console"
)

func accounts(t *testing.T) console.Accounts {
	t.Helper()
	st := redisstore.New(redistest.Client(t), redisstore.Options{Prefix: redistest.Prefix(t)})
	return console.Accounts{Store: st.Staff(redisstore.StaffOptions{AccountFailures: 3, AddressFailures: 5}), Cost: bcrypt.MinCost}
}

const lan, lanPassword = "lan@hanoi.gov.vn", "mật khẩu của Lan 2026"

// Unknown email, wrong password and disabled account get the same answer; the right
// one logs in, with the email in any case.
func TestAuthenticateTellsNothing(t *testing.T) {
	ctx := context.Background()
	a := accounts(t)
	if err := a.Add(ctx, lan, "Nguyễn Thị Lan", bot.RoleOperator, lanPassword); err != nil {
		t.Fatal(err)
	}
	if err := a.Add(ctx, "cu@hanoi.gov.vn", "Cũ", bot.RoleOperator, lanPassword); err != nil {
		t.Fatal(err)
	}
	if err := a.Store.Disable(ctx, "cu@hanoi.gov.vn"); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ email, password string }{
		{"nobody@hanoi.gov.vn", lanPassword},
		{lan, "not the password at all"},
		{"cu@hanoi.gov.vn", lanPassword},
	} {
		if _, err := a.Authenticate(ctx, c.email, c.password, "203.0.113.9:5000"); !errors.Is(err, bot.ErrBadCredentials) {
			t.Errorf("%s: %v; want ErrBadCredentials", c.email, err)
		}
	}
	m, err := a.Authenticate(ctx, " LAN@HaNoi.gov.vn", lanPassword, "203.0.113.9:5001")
	if err != nil || m.Email != lan || m.Role != bot.RoleOperator {
		t.Fatalf("login = %+v, %v", m, err)
	}
}

// After three failures the account is refused even with the right password, from any
// address, and an unknown email is limited the same way.
func TestAuthenticateLimited(t *testing.T) {
	ctx := context.Background()
	a := accounts(t)
	if err := a.Add(ctx, lan, "Nguyễn Thị Lan", bot.RoleOperator, lanPassword); err != nil {
		t.Fatal(err)
	}
	for i, email := range []string{lan, "nobody@hanoi.gov.vn"} {
		addr := []string{"198.51.100.7:1", "198.51.100.9:1"}[i]
		for range 3 {
			if _, err := a.Authenticate(ctx, email, "wrong password here", addr); !errors.Is(err, bot.ErrBadCredentials) {
				t.Fatalf("%s: %v", email, err)
			}
		}
		if _, err := a.Authenticate(ctx, email, lanPassword, "198.51.100.8:1"); !errors.Is(err, bot.ErrTooManyAttempts) {
			t.Errorf("%s after 3 failures: %v; want ErrTooManyAttempts", email, err)
		}
	}
}

func TestPasswordRules(t *testing.T) {
	ctx := context.Background()
	a := accounts(t)
	for _, pw := range []string{"short", "ngắn quá", string(make([]byte, 73))} {
		if err := a.Add(ctx, lan, "Lan", bot.RoleOperator, pw); err == nil {
			t.Errorf("password of %d bytes accepted", len(pw))
		}
	}
}

// No account may have an email the login refuses unread.
func TestAddRefusesWhatCannotLogIn(t *testing.T) {
	ctx := context.Background()
	a := accounts(t)
	for _, email := range []string{"lan", "lan@", "@hanoi.gov.vn", "lan an@hanoi.gov.vn", "a@b@hanoi.gov.vn", strings.Repeat("a", 250) + "@hanoi.gov.vn"} {
		if err := a.Add(ctx, email, "Nguyễn Thị Lan", bot.RoleOperator, lanPassword); err == nil {
			t.Errorf("account %.30q added", email)
		}
	}
}
