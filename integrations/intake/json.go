package intake

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	json "github.com/go-json-experiment/json/v1"

	"github.com/sangkien/sangkien/bot"
)

// JSONConfig configures a JSONClient.
type JSONConfig struct {
	// URL receives the submissions (INTAKE_URL).
	URL string
	// Secret signs every request (INTAKE_SECRET).
	Secret string
	// HTTP sends the requests; nil means a client with a 30 s timeout. Redirects are never
	// followed, whatever the client says.
	HTTP   *http.Client
	Logger *slog.Logger
	// Now stamps the signatures; nil means time.Now.
	Now func() time.Time
	// MediaURL gives each attachment's link through the gateway's media proxy, sent as
	// the attachment's url; nil sends attachments without links.
	MediaURL func(a bot.Attachment, s bot.Submission) (string, error)
}

// JSONClient posts each submission as a signed JSON document (docs/intake.md).
type JSONClient struct {
	url    string
	secret []byte
	http   *http.Client
	log    *slog.Logger
	now    func() time.Time
	media  func(bot.Attachment, bot.Submission) (string, error)
}

// NewJSONClient checks cfg and builds the client.
func NewJSONClient(cfg JSONConfig) (*JSONClient, error) {
	if _, err := checkURL(cfg.URL); err != nil {
		return nil, fmt.Errorf("intake json: %w", err)
	}
	if cfg.Secret == "" {
		return nil, errors.New("intake json: a signing secret is required")
	}
	c := &JSONClient{
		url:    cfg.URL,
		secret: []byte(cfg.Secret),
		http:   httpClient(cfg.HTTP),
		log:    cfg.Logger,
		now:    cfg.Now,
		media:  cfg.MediaURL,
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	c.log = c.log.With("component", "intake.json")
	if c.now == nil {
		c.now = time.Now
	}
	return c, nil
}

// Deliver posts the submission. Any 2xx is a delivery; the intake keeps one submission
// per Idempotency-Key, which is the submission ID on every attempt. Failures are
// *bot.SendError: retryable (network, timeout, 408, 5xx), rate limited (429, or a
// Retry-After on 408/5xx) or permanent (any other status).
func (c *JSONClient) Deliver(ctx context.Context, s bot.Submission) (bot.Receipt, error) {
	if s.ID == "" {
		return bot.Receipt{}, &bot.SendError{Failure: bot.Permanent, Detail: "submission without id"}
	}
	s, err := c.withLinks(s)
	if err != nil {
		return bot.Receipt{}, err
	}
	body, err := EncodeSubmission(s)
	if err != nil {
		return bot.Receipt{}, &bot.SendError{Failure: bot.Permanent, Detail: "unencodable submission", Err: err}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(body))
	if err != nil {
		return bot.Receipt{}, fmt.Errorf("intake json: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", s.ID)
	req.Header.Set(SignatureHeader, Sign(c.secret, c.now(), body))
	req.Header.Set("User-Agent", userAgent)

	start := time.Now()
	a, err := do(c.http, req)
	log := c.log.With("submission", s.ID, "reference", s.Reference)
	if err != nil {
		log.Warn("intake unreachable", "err", err, "took", time.Since(start))
		return bot.Receipt{}, err
	}
	if !isSuccess(a.status) {
		se := failure(a, string(a.body), c.now())
		log.Warn("intake refused submission", "status", a.status, "failure", se.Failure,
			"retry_after", se.RetryAfter, "took", time.Since(start))
		return bot.Receipt{}, se
	}
	r := jsonReceipt(a.body)
	log.Info("submission delivered", "status", a.status, "intake_id", r.IntakeID,
		"intake_status", r.Status, "took", time.Since(start))
	return r, nil
}

// jsonReceipt reads {"intake_id": …, "status": …} from a 2xx answer. Any other body
// (empty, text, another shape) is still a delivery, with an empty receipt.
func jsonReceipt(body []byte) bot.Receipt {
	var v struct {
		IntakeID flexString `json:"intake_id"`
		Status   string     `json:"status"`
	}
	if json.Unmarshal(body, &v) != nil {
		return bot.Receipt{}
	}
	return bot.Receipt{IntakeID: string(v.IntakeID), Status: v.Status}
}

// withLinks returns s with a media link on each attachment (a copy: s is not changed).
// A link that cannot be made is a retryable failure, like an intake that does not answer.
func (c *JSONClient) withLinks(s bot.Submission) (bot.Submission, error) {
	if c.media == nil || len(s.Attachments) == 0 {
		return s, nil
	}
	atts := make([]bot.Attachment, len(s.Attachments))
	for i, a := range s.Attachments {
		link, err := c.media(a, s)
		if err != nil {
			var se *bot.SendError
			if errors.As(err, &se) {
				return s, se
			}
			return s, &bot.SendError{Failure: bot.Retryable, Detail: "media link", Err: err}
		}
		a.URL = link
		atts[i] = a
	}
	s.Attachments = atts
	return s, nil
}
