package webchat

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"time"
)

// A token names a conversation, the language the citizen chose and when it stops
// working, signed with HMAC-SHA256: "<conversation>.<expiry, unix s>.<lang>.<signature>".
// Nothing is stored for it: any process that knows the key checks it.
type signer struct {
	key []byte
	ttl time.Duration
	now func() time.Time
}

// claims is what a valid token says.
type claims struct {
	Conversation string
	Lang         string
	Expires      time.Time
}

var errBadToken = errors.New("webchat: token missing, wrong or expired")

func (s *signer) issue(conv, lang string) (string, time.Time) {
	exp := s.now().Add(s.ttl).Truncate(time.Second)
	body := conv + "." + strconv.FormatInt(exp.Unix(), 10) + "." + lang
	return body + "." + s.sign(body), exp
}

func (s *signer) sign(body string) string {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte("webchat-token-v1\x00" + body))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func (s *signer) verify(tok string) (claims, error) {
	i := strings.LastIndexByte(tok, '.')
	if i < 0 || len(tok) > 256 {
		return claims{}, errBadToken
	}
	body, sig := tok[:i], tok[i+1:]
	if !hmac.Equal([]byte(sig), []byte(s.sign(body))) {
		return claims{}, errBadToken
	}
	parts := strings.Split(body, ".")
	if len(parts) != 3 {
		return claims{}, errBadToken
	}
	sec, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil {
		return claims{}, errBadToken
	}
	c := claims{Conversation: parts[0], Expires: time.Unix(sec, 0), Lang: parts[2]}
	if !s.now().Before(c.Expires) {
		return claims{}, errBadToken
	}
	return c, nil
}

// newConversationID is 128 random bits, base64url: unguessable, and free of the
// characters a conversation key reserves.
func newConversationID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}
