package intake_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sangkien/sangkien/integrations/intake"
)

// The header is exactly what docs/intake.md documents, computed here independently.
func TestSignFormat(t *testing.T) {
	secret, body := []byte("s3cret"), []byte(`{"schema":"sangkien.submission/v1","id":"a"}`)
	at := time.Unix(1764297000, 0)
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("1764297000." + string(body)))
	want := "t=1764297000,v1=" + hex.EncodeToString(m.Sum(nil))
	if got := intake.Sign(secret, at, body); got != want {
		t.Errorf("Sign = %q, want %q", got, want)
	}
}

func TestVerify(t *testing.T) {
	secret, body := []byte("s3cret"), []byte(`{"id":"a"}`)
	now := time.Unix(1764297000, 0)
	good := intake.Sign(secret, now, body)
	v1 := func(h string) string { _, v, _ := strings.Cut(h, ",v1="); return v }
	other := intake.Sign([]byte("old secret"), now, body)
	tests := []struct {
		name   string
		secret string
		header string
		body   string
		now    time.Time
		want   error
	}{
		{"valid", "s3cret", good, string(body), now, nil},
		{"spaces after commas", "s3cret", strings.ReplaceAll(good, ",", ", "), string(body), now, nil},
		{"4m59s late", "s3cret", good, string(body), now.Add(299 * time.Second), nil},
		{"4m59s early", "s3cret", good, string(body), now.Add(-299 * time.Second), nil},
		{"rotation: old then new", "s3cret", "t=1764297000,v1=" + v1(other) + ",v1=" + v1(good), string(body), now, nil},
		{"unknown scheme ignored", "s3cret", good + ",v0=abc", string(body), now, nil},
		{"tampered body", "s3cret", good, `{"id":"b"}`, now, intake.ErrSignatureMismatch},
		{"wrong secret", "other", good, string(body), now, intake.ErrSignatureMismatch},
		{"timestamp changed", "s3cret", strings.Replace(good, "t=1764297000", "t=1764297001", 1), string(body), now, intake.ErrSignatureMismatch},
		{"old timestamp", "s3cret", good, string(body), now.Add(5*time.Minute + time.Second), intake.ErrSignatureExpired},
		{"future timestamp", "s3cret", good, string(body), now.Add(-6 * time.Minute), intake.ErrSignatureExpired},
		{"empty", "s3cret", "", string(body), now, intake.ErrSignatureMalformed},
		{"no v1", "s3cret", "t=1764297000", string(body), now, intake.ErrSignatureMalformed},
		{"no t", "s3cret", "v1=" + v1(good), string(body), now, intake.ErrSignatureMalformed},
		{"t not a number", "s3cret", "t=soon,v1=" + v1(good), string(body), now, intake.ErrSignatureMalformed},
		{"two t", "s3cret", "t=1,t=1764297000,v1=" + v1(good), string(body), now, intake.ErrSignatureMalformed},
		{"v1 not hex", "s3cret", "t=1764297000,v1=zz", string(body), now, intake.ErrSignatureMalformed},
		{"v1 too short", "s3cret", "t=1764297000,v1=abcd", string(body), now, intake.ErrSignatureMalformed},
		{"no equals", "s3cret", "t=1764297000,v1", string(body), now, intake.ErrSignatureMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := intake.Verify([]byte(tt.secret), tt.header, []byte(tt.body), tt.now, 0)
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Errorf("Verify = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestVerifyTolerance(t *testing.T) {
	now := time.Unix(1764297000, 0)
	h := intake.Sign([]byte("k"), now, nil)
	if err := intake.Verify([]byte("k"), h, nil, now.Add(2*time.Minute), time.Minute); !errors.Is(err, intake.ErrSignatureExpired) {
		t.Errorf("1m tolerance, 2m late: %v, want expired", err)
	}
	if err := intake.Verify([]byte("k"), h, nil, now.Add(50*time.Second), time.Minute); err != nil {
		t.Errorf("1m tolerance, 50s late: %v", err)
	}
}
