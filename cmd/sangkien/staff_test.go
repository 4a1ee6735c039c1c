package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

func TestStaffCommands(t *testing.T) {
	staffBcryptCost = bcrypt.MinCost
	t.Cleanup(func() { staffBcryptCost = 12 })
	ctx := context.Background()
	env := newTestEnv(t)
	pw := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(pw, []byte("mật khẩu đủ dài 2026\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	staff := func(stdin string, args ...string) (string, error) {
		var out, errOut bytes.Buffer
		err := run(ctx, append([]string{"staff"}, args...), env.get, strings.NewReader(stdin), &out, &errOut)
		return out.String(), err
	}
	if _, err := staff("", "add", "--email", " Lan.Nguyen@HaNoi.gov.vn ", "--name", "Nguyễn Thị Lan", "--role", "admin", "--password-file", pw); err != nil {
		t.Fatal(err)
	}
	// A password piped in as one line, as a script gives it.
	if _, err := staff("một mật khẩu khác nữa\n", "add", "--email", "minh@hanoi.gov.vn", "--name", "Trần Minh"); err != nil {
		t.Fatal(err)
	}
	out, err := staff("", "list")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"lan.nguyen@hanoi.gov.vn", "Nguyễn Thị Lan", "admin", "minh@hanoi.gov.vn", "operator", "2 accounts"} {
		if !strings.Contains(out, want) {
			t.Errorf("list lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "$2a$") {
		t.Errorf("list shows a hash:\n%s", out)
	}
	tok, err := staff("", "token", "minh@hanoi.gov.vn")
	if err != nil || !strings.HasPrefix(tok, "sk_") {
		t.Fatalf("token = %q, %v", tok, err)
	}
	if _, err := staff("", "disable", "MINH@hanoi.gov.vn"); err != nil {
		t.Fatal(err)
	}
	if out, _ := staff("", "list"); !strings.Contains(out, "disabled") {
		t.Errorf("list after disable:\n%s", out)
	}
	if _, err := staff("một mật khẩu mới cho Lan\n", "password", "lan.nguyen@hanoi.gov.vn"); err != nil {
		t.Fatal(err)
	}

	for _, tt := range []struct {
		stdin string
		args  []string
		want  string
	}{
		{"", []string{"add", "--email", "x@hanoi.gov.vn", "--name", "Xuân", "--role", "boss", "--password-file", pw}, "unknown role"},
		{"ngắn\n", []string{"add", "--email", "y@hanoi.gov.vn", "--name", "Yến"}, "password too short"},
		{"", []string{"add", "--email", "lan.nguyen@hanoi.gov.vn", "--name", "Lan", "--password-file", pw}, "already exists"},
		{"", []string{"add", "--email", "z@hanoi.gov.vn", "--name", "Zê"}, "no password"},
		{"", []string{"token", "nobody@hanoi.gov.vn"}, "unknown staff"},
		{"", []string{"disable"}, "give the account's email"},
		{"", []string{"fire", "a@b.vn"}, "add, list, disable, password or token"},
	} {
		if _, err := staff(tt.stdin, tt.args...); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("staff %v: %v; want an error with %q", tt.args, err, tt.want)
		}
	}
}
