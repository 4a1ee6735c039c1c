package media

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	json "github.com/go-json-experiment/json/v1"

	"github.com/sangkien/sangkien/bot"
)

// DefaultTTL is how long a link works when no other TTL is given: long enough for the
// intake's staff to open a submission a few days after it arrived.
const DefaultTTL = 7 * 24 * time.Hour

// Errors a link check returns; Handler maps them to 403, 410 and 404.
var (
	ErrBadSignature = errors.New("media link: bad signature")
	ErrExpired      = errors.New("media link: expired")
	ErrBadID        = errors.New("media link: malformed id")
)

// File is what a link names: one attachment on one channel.
type File struct {
	Channel bot.Channel        `json:"c"`
	Ref     string             `json:"r"`
	Kind    bot.AttachmentKind `json:"k,omitempty"`
	MIME    string             `json:"m,omitempty"`
	Name    string             `json:"n,omitempty"`
}

// Signer makes and checks signed, expiring media links.
type Signer struct {
	key  []byte
	base string
	ttl  time.Duration
	now  func() time.Time
}

// NewSigner builds a Signer. baseURL is the gateway's public URL (PUBLIC_BASE_URL); ttl
// <= 0 means DefaultTTL; now nil means time.Now.
func NewSigner(key []byte, baseURL string, ttl time.Duration, now func() time.Time) (*Signer, error) {
	if len(key) < 16 {
		return nil, errors.New("media: the signing key must be at least 16 bytes")
	}
	u, err := url.Parse(baseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, errors.New("media: the base URL must be an absolute http(s) URL")
	}
	if ttl <= 0 {
		ttl = DefaultTTL
	}
	if now == nil {
		now = time.Now
	}
	return &Signer{key: key, base: strings.TrimRight(baseURL, "/"), ttl: ttl, now: now}, nil
}

// Link returns the signed link of an attachment held by channel ch, valid for the TTL.
func (s *Signer) Link(ch bot.Channel, a bot.Attachment) (string, error) {
	return s.LinkSince(ch, a, s.now())
}

// LinkSince is Link with the TTL counted from since (a submission's time), so that every
// delivery of one submission carries the same links, byte for byte, and an intake that
// compares retried bodies sees the same one. When less than a day of such a link would
// be left, it counts from now instead.
func (s *Signer) LinkSince(ch bot.Channel, a bot.Attachment, since time.Time) (string, error) {
	if until := since.Add(s.ttl); until.Before(s.now().Add(24 * time.Hour)) {
		since = s.now()
	}
	p, err := s.path(ch, a, since.Add(s.ttl))
	if err != nil {
		return "", err
	}
	return s.base + p, nil
}

// PathFor is a link for a page the gateway itself serves (the operator console):
// "/media/…", relative to the gateway, valid for ttl from now, so that a link copied
// out of the console soon stops working.
func (s *Signer) PathFor(ch bot.Channel, a bot.Attachment, ttl time.Duration) (string, error) {
	return s.path(ch, a, s.now().Add(ttl))
}

// path is the signed path of a's file, valid until until.
func (s *Signer) path(ch bot.Channel, a bot.Attachment, until time.Time) (string, error) {
	if ch == "" || a.Ref == "" {
		return "", errors.New("media: link: channel and file reference are required")
	}
	b, err := json.Marshal(File{Channel: ch, Ref: a.Ref, Kind: a.Kind, MIME: a.MIME, Name: a.Name})
	if err != nil {
		return "", fmt.Errorf("media: link: %w", err)
	}
	id := base64.RawURLEncoding.EncodeToString(b)
	exp := strconv.FormatInt(until.Unix(), 10)
	q := url.Values{"exp": {exp}, "sig": {s.sign(id, exp)}}
	return "/media/" + id + "?" + q.Encode(), nil
}

// SubmissionLink is the link of one of a submission's attachments, counted from the
// submission's time (LinkSince): the same on every delivery of the submission.
func (s *Signer) SubmissionLink(a bot.Attachment, sub bot.Submission) (string, error) {
	return s.LinkSince(sub.Conversation.Channel, a, sub.SubmittedAt)
}

// KeyStore keeps a random key shared by every gateway process (bot/redisstore.Store).
type KeyStore interface {
	SharedKey(ctx context.Context, name string, size int) ([]byte, error)
}

// SignerFor builds the gateway's signer: keyed with secret (MEDIA_SECRET) when set,
// else with one random key made once and kept in keys, which serves every process and
// outlives restarts. The key is not derived from the intake's secret: the intake holds
// that one, and must not be able to sign links of its own.
func SignerFor(ctx context.Context, secret string, keys KeyStore, baseURL string, ttl time.Duration) (*Signer, error) {
	key := []byte(secret)
	if len(key) == 0 {
		var err error
		if key, err = keys.SharedKey(ctx, "media", 32); err != nil {
			return nil, fmt.Errorf("media link key: %w", err)
		}
	}
	s, err := NewSigner(key, baseURL, ttl, nil)
	if err != nil {
		return nil, fmt.Errorf("MEDIA_SECRET: %w", err)
	}
	return s, nil
}

// Check verifies a link's id, exp and sig and returns the file it names. sig must be
// the lower-case hex Link writes: the same signature in upper case would be another
// link to the same file, and a link that works is one we wrote, byte for byte.
func (s *Signer) Check(id, exp, sig string) (File, error) {
	if !hmac.Equal([]byte(sig), []byte(s.sign(id, exp))) {
		return File{}, ErrBadSignature
	}
	sec, err := strconv.ParseInt(exp, 10, 64)
	if err != nil {
		return File{}, ErrBadSignature // signed, so never reached with our own links
	}
	if !s.now().Before(time.Unix(sec, 0)) {
		return File{}, ErrExpired
	}
	raw, err := base64.RawURLEncoding.DecodeString(id)
	if err != nil {
		return File{}, ErrBadID
	}
	var f File
	if err := json.Unmarshal(raw, &f); err != nil || f.Channel == "" || f.Ref == "" {
		return File{}, ErrBadID
	}
	return f, nil
}

func (s *Signer) sign(id, exp string) string { return hex.EncodeToString(s.mac(id, exp)) }

func (s *Signer) mac(id, exp string) []byte {
	h := hmac.New(sha256.New, s.key)
	h.Write([]byte("media/v1."))
	h.Write([]byte(id))
	h.Write([]byte{'.'})
	h.Write([]byte(exp))
	return h.Sum(nil)
}
