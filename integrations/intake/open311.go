package intake

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/sangkien/sangkien/bot"
)

// Open311Config configures an Open311Client.
type Open311Config struct {
	// URL is the GeoReport v2 endpoint's base, without "/requests.json" (INTAKE_URL).
	URL string
	// APIKey is sent as api_key with every request (INTAKE_API_KEY).
	APIKey string
	// JurisdictionID is sent as jurisdiction_id when set (servers that host several cities).
	JurisdictionID string
	// Programs maps each program's fields to service codes (Field.ServiceCode).
	Programs bot.Programs
	// DefaultServiceCode is used for a field without a service code; empty means such a
	// submission fails permanently, naming the field.
	DefaultServiceCode string
	// FeedbackServiceCode is used for feedback, which has no field; empty means
	// DefaultServiceCode.
	FeedbackServiceCode string
	// DefaultAddress is sent as address_string when the submission has no location
	// (feedback, an initiative without a place): many servers require a location.
	DefaultAddress string
	// MediaURL gives the public link of an attachment (the gateway's signed media link);
	// nil means no media_url is sent.
	MediaURL func(a bot.Attachment, s bot.Submission) (string, error)
	// HTTP sends the requests; nil means a client with a 30 s timeout.
	HTTP   *http.Client
	Logger *slog.Logger
	// PollInterval is the pause between polls of a token (default 2s); PollTimeout bounds
	// the polling of one submission (default 30s).
	PollInterval, PollTimeout time.Duration
	// Now reads Retry-After dates; nil means time.Now.
	Now func() time.Time
}

// Open311Client files each submission as an Open311 GeoReport v2 service request
// (docs/intake.md has the mapping).
//
// GeoReport v2 has no idempotency key: a gateway that crashes after the server took a
// request and before the outbox acknowledged it posts the submission again, and the
// server keeps two unless it deduplicates on attribute[submission_id].
type Open311Client struct {
	cfg  Open311Config
	base string
	http *http.Client
	log  *slog.Logger
}

// NewOpen311Client checks cfg and builds the client.
func NewOpen311Client(cfg Open311Config) (*Open311Client, error) {
	u, err := checkURL(cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("intake open311: %w", err)
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = 2 * time.Second
	}
	if cfg.PollTimeout <= 0 {
		cfg.PollTimeout = 30 * time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Open311Client{
		cfg:  cfg,
		base: strings.TrimRight(u.String(), "/"),
		http: httpClient(cfg.HTTP),
		log:  log.With("component", "intake.open311"),
	}, nil
}

// Deliver posts the submission to requests.json. With a token in the answer, it polls
// tokens/{token}.json for the service request id; when none comes within PollTimeout the
// delivery still succeeds (the server accepted the request) with the token in
// Receipt.Token and no IntakeID, since posting again would file a second request.
func (c *Open311Client) Deliver(ctx context.Context, s bot.Submission) (bot.Receipt, error) {
	form, err := c.Form(s)
	if err != nil {
		return bot.Receipt{}, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+"/requests.json",
		strings.NewReader(form.Encode()))
	if err != nil {
		return bot.Receipt{}, fmt.Errorf("intake open311: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", userAgent)

	log := c.log.With("submission", s.ID, "reference", s.Reference)
	start := time.Now()
	a, err := do(c.http, req)
	if err != nil {
		log.Warn("open311 server unreachable", "err", err, "took", time.Since(start))
		return bot.Receipt{}, err
	}
	items, perr := parseOpen311(a.body)
	if !isSuccess(a.status) {
		se := failure(a, open311Detail(items, perr, a.body), c.cfg.Now())
		log.Warn("open311 server refused request", "status", a.status, "failure", se.Failure,
			"retry_after", se.RetryAfter, "took", time.Since(start))
		return bot.Receipt{}, se
	}
	var first open311Item
	if len(items) > 0 {
		first = items[0]
	}
	switch {
	case first.ID != "":
		log.Info("service request filed", "intake_id", first.ID, "took", time.Since(start))
		return bot.Receipt{IntakeID: string(first.ID), Status: bot.StatusReceived}, nil
	case first.Token != "":
		return c.poll(ctx, log, string(first.Token)), nil
	case first.Description != "":
		// A 2xx carrying only an error: the server filed nothing.
		se := &bot.SendError{Failure: bot.Permanent, Code: a.status, Detail: trimDetail(open311Detail(items, nil, a.body))}
		log.Warn("open311 server refused request", "status", a.status, "failure", se.Failure)
		return bot.Receipt{}, se
	}
	// A 2xx we cannot read: the server took the request, and posting it again would
	// file it twice.
	log.Warn("open311 answer without id or token; counted as delivered", "status", a.status)
	return bot.Receipt{Status: bot.StatusReceived}, nil
}

// Form is the form Deliver posts for s. It fails permanently when no service code maps
// the submission.
func (c *Open311Client) Form(s bot.Submission) (url.Values, error) {
	code, err := c.serviceCode(s)
	if err != nil {
		return nil, err
	}
	f := url.Values{}
	set := func(k, v string) {
		if v != "" {
			f.Set(k, v)
		}
	}
	set("api_key", c.cfg.APIKey)
	set("jurisdiction_id", c.cfg.JurisdictionID)
	set("service_code", code)
	set("description", Describe(s))
	if s.Location != nil {
		set("lat", strconv.FormatFloat(s.Location.Lat, 'f', -1, 64))
		set("long", strconv.FormatFloat(s.Location.Lon, 'f', -1, 64))
		set("attribute[location_text]", s.LocationText)
	} else if s.LocationText != "" {
		set("address_string", s.LocationText)
	} else {
		set("address_string", c.cfg.DefaultAddress)
	}
	first, last := SplitName(s.Contact.Name, s.Lang)
	set("first_name", first)
	set("last_name", last)
	set("phone", s.Contact.Phone)
	set("email", s.Contact.Email)
	if err := c.media(f, s); err != nil {
		return nil, err
	}
	set("attribute[submission_id]", s.ID)
	set("attribute[reference]", s.Reference)
	set("attribute[kind]", s.Kind)
	set("attribute[program]", s.ProgramID)
	set("attribute[field]", s.Field)
	set("attribute[channel]", string(s.Conversation.Channel))
	set("attribute[lang]", s.Lang)
	set("attribute[topic]", s.Topic)
	set("attribute[topic_ref]", s.TopicRef)
	if s.Rating > 0 {
		set("attribute[rating]", strconv.Itoa(s.Rating))
	}
	set("attribute[notice_version]", s.NoticeVersion)
	set("attribute[consent_at]", stamp(s.ConsentAt))
	set("attribute[submitted_at]", stamp(s.SubmittedAt))
	return f, nil
}

// serviceCode maps the submission to a service code: the field's, else the configured
// fallback.
func (c *Open311Client) serviceCode(s bot.Submission) (string, error) {
	if s.Kind == bot.KindFeedback {
		if code := cmp.Or(c.cfg.FeedbackServiceCode, c.cfg.DefaultServiceCode); code != "" {
			return code, nil
		}
		return "", &bot.SendError{Failure: bot.Permanent,
			Detail: "no service_code for feedback: set a feedback or default service code"}
	}
	if p, ok := c.cfg.Programs.Get(s.ProgramID); ok {
		if fl, ok := p.Field(s.Field); ok && fl.ServiceCode != "" {
			return fl.ServiceCode, nil
		}
	}
	if c.cfg.DefaultServiceCode != "" {
		return c.cfg.DefaultServiceCode, nil
	}
	return "", &bot.SendError{Failure: bot.Permanent,
		Detail: fmt.Sprintf("no service_code for field %q of program %q in the programs file", s.Field, s.ProgramID)}
}

// media sets media_url to the first attachment's link and attribute[media_url_N] to the
// others'. A link that cannot be made is retryable: nothing is posted without it.
func (c *Open311Client) media(f url.Values, s bot.Submission) error {
	if c.cfg.MediaURL == nil {
		return nil
	}
	for i, a := range s.Attachments {
		link, err := c.cfg.MediaURL(a, s)
		if err != nil {
			if se, ok := errors.AsType[*bot.SendError](err); ok {
				return se
			}
			return &bot.SendError{Failure: bot.Retryable, Detail: fmt.Sprintf("media link for attachment %d", i+1), Err: err}
		}
		if i == 0 {
			f.Set("media_url", link)
		} else {
			f.Set(fmt.Sprintf("attribute[media_url_%d]", i+1), link)
		}
	}
	return nil
}

// poll asks tokens/{token}.json for the service request id until it comes, PollTimeout
// passes or ctx ends. Failed polls are only logged: the request is filed either way.
func (c *Open311Client) poll(ctx context.Context, log *slog.Logger, token string) bot.Receipt {
	log = log.With("token", token)
	ctx, cancel := context.WithTimeout(ctx, c.cfg.PollTimeout)
	defer cancel()
	t := time.NewTicker(c.cfg.PollInterval)
	defer t.Stop()
	for n := 1; ; n++ {
		select {
		case <-ctx.Done():
			log.Info("service request accepted; its id comes later", "polls", n-1)
			return bot.Receipt{Token: token, Status: bot.StatusReceived}
		case <-t.C:
		}
		id, err := c.resolve(ctx, token)
		if err != nil {
			log.Warn("token poll failed", "poll", n, "err", err)
			continue
		}
		if id != "" {
			log.Info("service request filed", "intake_id", id, "polls", n)
			return bot.Receipt{IntakeID: id, Status: bot.StatusReceived}
		}
	}
}

// resolve asks once for the service request id of token; "" means not yet.
func (c *Open311Client) resolve(ctx context.Context, token string) (string, error) {
	u := c.base + "/tokens/" + url.PathEscape(token) + ".json"
	if c.cfg.JurisdictionID != "" {
		u += "?" + url.Values{"jurisdiction_id": {c.cfg.JurisdictionID}}.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return "", err
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", userAgent)
	a, err := do(c.http, req)
	if err != nil {
		return "", err
	}
	if a.status == http.StatusNotFound {
		return "", nil // some servers know the token only once it is processed
	}
	if !isSuccess(a.status) {
		return "", failure(a, string(a.body), c.cfg.Now())
	}
	items, err := parseOpen311(a.body)
	if err != nil {
		return "", err
	}
	for _, it := range items {
		if it.ID != "" {
			return string(it.ID), nil
		}
	}
	return "", nil
}

// open311Item is one element of a GeoReport v2 answer: a filed request, a token, or an
// error.
type open311Item struct {
	ID          flexString `json:"service_request_id"`
	Token       flexString `json:"token"`
	Code        flexString `json:"code"`
	Description string     `json:"description"`
}

// parseOpen311 reads a GeoReport v2 JSON answer: an array, or a lone object from lenient
// servers.
func parseOpen311(body []byte) ([]open311Item, error) {
	body = bytes.TrimSpace(body)
	if len(body) > 0 && body[0] == '{' {
		var it open311Item
		if err := json.Unmarshal(body, &it); err != nil {
			return nil, fmt.Errorf("open311 answer: %w", err)
		}
		return []open311Item{it}, nil
	}
	var items []open311Item
	if err := json.Unmarshal(body, &items); err != nil {
		return nil, fmt.Errorf("open311 answer: %w", err)
	}
	return items, nil
}

// open311Detail describes a refusal by the error array's descriptions, else by the body.
func open311Detail(items []open311Item, err error, body []byte) string {
	if err == nil {
		var ds []string
		for _, it := range items {
			if it.Description == "" {
				continue
			}
			d := it.Description
			if it.Code != "" {
				d = string(it.Code) + ": " + d
			}
			ds = append(ds, d)
		}
		if len(ds) > 0 {
			return strings.Join(ds, "; ")
		}
	}
	return string(body)
}

// stamp formats a time for an attribute, "" for the zero time.
func stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format(time.RFC3339)
}
