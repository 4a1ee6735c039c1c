package intaketest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sangkien/sangkien/integrations/intake"
)

// The verification the docs give is the one the fake runs, and it accepts the
// gateway's signatures and refuses a changed body.
func TestDocumentedVerificationIsTheFakes(t *testing.T) {
	own := goFunc(t, "documented.go", "func verify(")
	for _, doc := range []string{"../../../README.md", "../../../docs/intake.md"} {
		if got := goFunc(t, doc, "func verify("); got != own {
			t.Errorf("%s documents another verify than the fake runs:\n%s\n---\n%s", filepath.Base(doc), got, own)
		}
	}
	secret, body := []byte("s3cret"), []byte(`{"schema":"sangkien.submission/v1","id":"a"}`)
	header := intake.Sign(secret, time.Now(), body)
	if err := verify(secret, header, body); err != nil {
		t.Errorf("the documented check refuses the gateway's signature: %v", err)
	}
	if err := verify(secret, header, append(body, ' ')); err == nil {
		t.Error("the documented check accepts a changed body")
	}
	if err := verify(secret, intake.Sign(secret, time.Now().Add(-time.Hour), body), body); err == nil {
		t.Error("the documented check accepts an old timestamp")
	}
}

// goFunc returns the text of the function that starts with head in file, from head to
// its closing brace at the start of a line.
func goFunc(t *testing.T, file, head string) string {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	i := strings.Index(s, head)
	if i < 0 {
		t.Fatalf("%s has no %q", file, head)
	}
	j := strings.Index(s[i:], "\n}\n")
	if j < 0 {
		t.Fatalf("%s: %q does not end", file, head)
	}
	return s[i : i+j+2]
}
