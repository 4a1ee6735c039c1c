package webchat

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
)

// A token names a conversation, the language the citizen chose and when it stops
// working, signed with HMAC-SHA256: "<conversation>.<expiry, unix s>.<lang>.<signature>".
// Nothing is stored for it: any process that knows the key checks it.
type signer struct {
	ttl time.Duration
	now func() time.Time
	// load fetches the key when it is not known yet (kept in Redis: a Redis down at
	// start does not stop the gateway, the first request after it is back loads it).
	load func(context.Context) ([]byte, error)

	mu  sync.Mutex
	key []byte
}

// keyFor returns the key, loading it until it is had. The load runs outside the lock:
// with Redis down, each request waits for its own attempt, not in line behind every
// other's timeout (loads at once get the same key: it is made once in Redis).
func (s *signer) keyFor(ctx context.Context) ([]byte, error) {
	s.mu.Lock()
	key := s.key
	s.mu.Unlock()
	if key != nil {
		return key, nil
	}
	k, err := s.load(ctx)
	if err != nil {
		return nil, fmt.Errorf("webchat token key: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.key == nil {
		s.key = k
	}
	return s.key, nil
}

// claims is what a valid token says.
type claims struct {
	Conversation string
	Lang         string
	Expires      time.Time
}

var errBadToken = errors.New("webchat: token missing, wrong or expired")

func (s *signer) issue(ctx context.Context, conv, lang string) (string, time.Time, error) {
	key, err := s.keyFor(ctx)
	if err != nil {
		return "", time.Time{}, err
	}
	exp := s.now().Add(s.ttl).Truncate(time.Second)
	body := conv + "." + strconv.FormatInt(exp.Unix(), 10) + "." + lang
	return body + "." + sign(key, body), exp, nil
}

func sign(key []byte, body string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("webchat-token-v1\x00" + body))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// verify answers errBadToken for a token that is not valid now, another error when the
// key cannot be had.
func (s *signer) verify(ctx context.Context, tok string) (claims, error) {
	i := strings.LastIndexByte(tok, '.')
	if i < 0 || len(tok) > 256 {
		return claims{}, errBadToken
	}
	key, err := s.keyFor(ctx)
	if err != nil {
		return claims{}, err
	}
	body, sig := tok[:i], tok[i+1:]
	if !hmac.Equal([]byte(sig), []byte(sign(key, body))) {
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
