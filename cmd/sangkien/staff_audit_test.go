package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/sangkien/sangkien/bot"
	"github.com/sangkien/sangkien/bot/redisstore"
	"github.com/sangkien/sangkien/bot/redisstore/redistest"
)

// `sangkien staff` records each change in the console's audit trail, as the console
// does: from the command line, naming the account, never the password or the token.
func TestStaffCommandsAreAudited(t *testing.T) {
	staffBcryptCost = bcrypt.MinCost
	t.Cleanup(func() { staffBcryptCost = 12 })
	ctx := context.Background()
	env := newTestEnv(t)
	pw := filepath.Join(t.TempDir(), "pw")
	const password = "mật khẩu đủ dài 2026"
	if err := os.WriteFile(pw, []byte(password+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	staff := func(args ...string) string {
		t.Helper()
		var out, errOut bytes.Buffer
		if err := run(ctx, append([]string{"staff"}, args...), env.get, strings.NewReader(""), &out, &errOut); err != nil {
			t.Fatalf("staff %v: %v", args, err)
		}
		return out.String()
	}
	staff("add", "--email", "lan@hanoi.gov.vn", "--name", "Nguyễn Thị Lan", "--role", "operator", "--password-file", pw)
	token := strings.TrimSpace(staff("token", "lan@hanoi.gov.vn"))
	staff("password", "lan@hanoi.gov.vn", "--password-file", pw)
	staff("disable", "lan@hanoi.gov.vn")

	st := redisstore.New(redistest.Client(t), redisstore.Options{Prefix: env["REDIS_PREFIX"]})
	entries, _, err := st.Audit(redisstore.AuditOptions{}).List(ctx, bot.AuditQuery{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Staff+"|"+e.Action+"|"+e.Detail+"|"+e.Addr)
		if strings.Contains(e.Detail, token) || strings.Contains(e.Detail, password) {
			t.Errorf("an entry holds a secret: %+v", e)
		}
	}
	want := []string{
		"|staff_disable|lan@hanoi.gov.vn|command line",
		"|staff_password|lan@hanoi.gov.vn|command line",
		"|staff_token|lan@hanoi.gov.vn|command line",
		"|staff_add|lan@hanoi.gov.vn operator|command line",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("audit:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
