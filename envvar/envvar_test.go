package envvar

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReader(t *testing.T) {
	dir := t.TempDir()
	secret := filepath.Join(dir, "token")
	if err := os.WriteFile(secret, []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(empty, []byte("\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	vars := []Var{
		{Name: "ADDR", Default: ":8080"},
		{Name: "TOKEN", Secret: true},
		{Name: "PLAIN"},
	}
	tests := []struct {
		name    string
		env     map[string]string
		get     string
		want    string
		wantErr string
	}{
		{"default when empty", nil, "ADDR", ":8080", ""},
		{"value trimmed", map[string]string{"ADDR": " :9090 "}, "ADDR", ":9090", ""},
		{"secret from its file, final newline dropped", map[string]string{"TOKEN_FILE": secret}, "TOKEN", "s3cret", ""},
		{"secret and its file both set", map[string]string{"TOKEN": "x", "TOKEN_FILE": secret}, "TOKEN", "x", "TOKEN and TOKEN_FILE are both set"},
		{"secret file missing", map[string]string{"TOKEN_FILE": filepath.Join(dir, "nope")}, "TOKEN", "", "TOKEN_FILE:"},
		{"secret file empty", map[string]string{"TOKEN_FILE": empty}, "TOKEN", "", "TOKEN_FILE: file is empty"},
		{"no _FILE for a plain variable", map[string]string{"PLAIN_FILE": secret}, "PLAIN", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := NewReader(func(k string) string { return tt.env[k] }, vars)
			if got := r.Get(tt.get); got != tt.want {
				t.Errorf("Get(%s) = %q, want %q", tt.get, got, tt.want)
			}
			err := r.Err()
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("Err() = %v, want none", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("Err() = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestReaderKeepsTheFirstError(t *testing.T) {
	r := NewReader(func(string) string { return "" }, nil)
	r.Fail(os.ErrNotExist)
	r.Fail(os.ErrPermission)
	if r.Err() != os.ErrNotExist {
		t.Fatalf("Err() = %v, want the first error", r.Err())
	}
}

func TestWriteHelp(t *testing.T) {
	var b strings.Builder
	WriteHelp(&b, []Var{
		{Name: "HTTP_ADDR", Default: ":8080", Help: "address the HTTP server listens on"},
		{Name: "LONG", Help: strings.Repeat("many words ", 30)},
		{Name: "LATER_ONE", Later: true},
		{Name: "LATER_TWO", Later: true},
	})
	out := b.String()
	for _, want := range []string{"Environment:", "HTTP_ADDR", "(default :8080)", "accepted now and ignored", "LATER_ONE  LATER_TWO", "NAME_FILE"} {
		if !strings.Contains(out, want) {
			t.Errorf("help lacks %q:\n%s", want, out)
		}
	}
	for _, line := range strings.Split(out, "\n") {
		if n := len([]rune(line)); n > 90 {
			t.Errorf("line of %d characters not wrapped: %q", n, line)
		}
	}
	if strings.Index(out, "LATER_ONE") < strings.Index(out, "ignored") {
		t.Error("a later variable is listed among the ones in use")
	}
}
