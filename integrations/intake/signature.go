package intake

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// SignatureHeader carries the signature of a request body, both on submissions the
// gateway posts and on status callbacks the intake posts back.
const SignatureHeader = "X-Sangkien-Signature"

// DefaultTolerance is how far a signature's timestamp may be from the receiver's clock.
const DefaultTolerance = 5 * time.Minute

// Reasons Verify refuses a signature.
var (
	ErrSignatureMalformed = errors.New("signature header malformed")
	ErrSignatureExpired   = errors.New("signature timestamp outside tolerance")
	ErrSignatureMismatch  = errors.New("signature does not match")
)

// Sign returns the signature header value for body sent at t:
// "t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>". Signing the timestamp
// with the body lets a receiver refuse an old request replayed later.
func Sign(secret []byte, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	return "t=" + ts + ",v1=" + hex.EncodeToString(mac(secret, ts, body))
}

// Verify checks a signature header against body and the receiver's clock now. The header
// may carry several v1 values (a sender signing with an old and a new secret while the
// secret is rotated); one match is enough. Unknown keys are ignored, so a later scheme
// can be sent alongside v1. tolerance <= 0 means DefaultTolerance.
func Verify(secret []byte, header string, body []byte, now time.Time, tolerance time.Duration) error {
	if tolerance <= 0 {
		tolerance = DefaultTolerance
	}
	ts, sigs, err := parseSignature(header)
	if err != nil {
		return err
	}
	sec, _ := strconv.ParseInt(ts, 10, 64) // parseSignature checked it
	if d := now.Sub(time.Unix(sec, 0)); d > tolerance || d < -tolerance {
		return fmt.Errorf("%w: %s off", ErrSignatureExpired, d.Round(time.Second))
	}
	want := mac(secret, ts, body)
	for _, s := range sigs {
		if hmac.Equal(s, want) {
			return nil
		}
	}
	return ErrSignatureMismatch
}

// parseSignature splits "t=…,v1=…[,v1=…]" into the timestamp as sent and the decoded
// v1 signatures.
func parseSignature(header string) (ts string, sigs [][]byte, err error) {
	for part := range strings.SplitSeq(header, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return "", nil, fmt.Errorf("%w: %q is not key=value", ErrSignatureMalformed, part)
		}
		switch k {
		case "t":
			if ts != "" {
				return "", nil, fmt.Errorf("%w: two timestamps", ErrSignatureMalformed)
			}
			if _, perr := strconv.ParseInt(v, 10, 64); perr != nil || v == "" {
				return "", nil, fmt.Errorf("%w: timestamp %q", ErrSignatureMalformed, v)
			}
			ts = v
		case "v1":
			s, derr := hex.DecodeString(v)
			if derr != nil || len(s) != sha256.Size {
				return "", nil, fmt.Errorf("%w: v1 is not a hex SHA-256 HMAC", ErrSignatureMalformed)
			}
			sigs = append(sigs, s)
		}
	}
	if ts == "" || len(sigs) == 0 {
		return "", nil, fmt.Errorf("%w: t and v1 are required", ErrSignatureMalformed)
	}
	return ts, sigs, nil
}

// mac is HMAC-SHA256(secret, "<ts>.<body>"), over the timestamp exactly as sent.
func mac(secret []byte, ts string, body []byte) []byte {
	h := hmac.New(sha256.New, secret)
	h.Write([]byte(ts))
	h.Write([]byte{'.'})
	h.Write(body)
	return h.Sum(nil)
}
