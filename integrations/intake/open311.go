package intake

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	json "github.com/go-json-experiment/json/v1"

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
	Programs bot.ProgramSource
	// DefaultServiceCode is used for a field without a service code; empty means such a
	// submission fails permanently, naming the field.
	DefaultServiceCode string
	// FeedbackServiceCode is used for feedback, which has no field; empty means
	// DefaultServiceCode.
	FeedbackServiceCode string
	// DefaultAddress is sent as address_string when the submission has no location
	// (feedback, an initiative without a place): many servers require a location.
	DefaultAddress string
	// Retry400For is how long, from the first attempt, a 400 is retried before it counts
	// as refused: GeoReport v2 answers 400 for a "General Service Error" (the CRM is
	// down) as well as for a wrong request (OPEN311_RETRY_400_FOR). Zero means 24 h; a
	// negative value means never (400 is refused at once).
	Retry400For time.Duration
	// ServicesTTL is how long the service list and definitions are kept before they are
	// fetched again (default 1h).
	ServicesTTL time.Duration
	// MediaURL gives the public link of an attachment (the gateway's signed media link);
	// nil means no media_url is sent.
	MediaURL func(a bot.Attachment, s bot.Submission) (string, error)
	// HTTP sends the requests; nil means a client with a 30 s timeout.
	HTTP   *http.Client
	Logger *slog.Logger
	// PollInterval is the pause between polls of a token (default 2s); PollTimeout bounds
	// the polling of one submission (default 30s).
	PollInterval, PollTimeout time.Duration
	// Now reads Retry-After dates and times the service catalog; nil means time.Now.
	Now func() time.Time
}

// Open311Client files each submission as an Open311 GeoReport v2 service request
// (docs/intake.md has the mapping).
//
// GeoReport v2 has no idempotency key: a gateway that crashes after the server took a
// request and before the outbox acknowledged it posts the submission again, and the
// server keeps two unless it deduplicates on attribute[submission_id].
type Open311Client struct {
	cfg      Open311Config
	base     string
	http     *http.Client
	log      *slog.Logger
	services *serviceCatalog
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
	if cfg.Retry400For == 0 {
		cfg.Retry400For = 24 * time.Hour
	}
	if cfg.ServicesTTL <= 0 {
		cfg.ServicesTTL = time.Hour
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c := &Open311Client{
		cfg:  cfg,
		base: strings.TrimRight(u.String(), "/"),
		http: httpClient(cfg.HTTP),
		log:  log.With("component", "intake.open311"),
	}
	c.services = &serviceCatalog{
		base: c.base, jurisdiction: cfg.JurisdictionID, http: c.http, log: c.log,
		now: cfg.Now, ttl: cfg.ServicesTTL, classify: c.failure,
	}
	return c, nil
}

// Deliver posts the submission to requests.json. With a token in the answer, it polls
// tokens/{token}.json for the service request id; when none comes within PollTimeout the
// delivery still succeeds (the server accepted the request) with the token in
// Receipt.Token and no IntakeID, since posting again would file a second request.
func (c *Open311Client) Deliver(ctx context.Context, s bot.Submission) (bot.Receipt, error) {
	form, err := c.Form(ctx, s)
	if err != nil {
		return bot.Receipt{}, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+"/requests.json",
		strings.NewReader(form.Encode()))
	if err != nil {
		return bot.Receipt{}, fmt.Errorf("intake open311: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
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
		se := c.failure(a, open311Detail(items, perr, a.body))
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
// the submission, when it has no location at all, or when the service's definition
// requires an attribute the gateway cannot answer; it fails as the fetch did when the
// definition cannot be read and no earlier copy is at hand.
//
// attribute[code] is sent only for the codes the service's definition declares, and
// only with a value its datatype takes; every other fact goes at the end of the
// description, one "code: value" line each, as plain text.
func (c *Open311Client) Form(ctx context.Context, s bot.Submission) (url.Values, error) {
	code, err := c.serviceCode(s)
	if err != nil {
		return nil, err
	}
	def, err := c.services.definition(ctx, code)
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
	if err := c.location(f, s); err != nil {
		return nil, err
	}
	first, last := SplitName(s.Contact.Name, s.Lang)
	set("first_name", first)
	set("last_name", last)
	set("phone", s.Contact.Phone)
	set("email", s.Contact.Email)
	answers, err := c.answers(f, s)
	if err != nil {
		return nil, err
	}
	var extra []string
	for _, an := range answers {
		a, declared := def.Attributes[an.code]
		switch {
		case !declared || !a.takes(an.value):
			extra = append(extra, an.code+": "+PlainText(an.value))
		case a.Datatype == "multivaluelist":
			f.Add("attribute["+an.code+"][]", an.value)
		default:
			f.Set("attribute["+an.code+"]", an.value)
		}
	}
	var missing []string
	for ac, a := range def.Attributes {
		if a.Variable && a.Required && !f.Has("attribute["+ac+"]") && !f.Has("attribute["+ac+"][]") {
			missing = append(missing, "attribute["+ac+"]")
		}
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		return nil, &bot.SendError{Failure: bot.Permanent, Detail: fmt.Sprintf(
			"service %q requires %s, which the gateway cannot answer: change the service's definition or its service_code",
			code, strings.Join(missing, ", "))}
	}
	f.Set("description", describeWith(s, extra))
	return f, nil
}

// describeWith is the description with the extra lines after it, within MaxDescription:
// the citizen's text is cut first, the extra lines only when they alone are too long.
func describeWith(s bot.Submission, extra []string) string {
	if len(extra) == 0 {
		return Describe(s)
	}
	tail := strings.Join(extra, "\n")
	room := MaxDescription - utf8.RuneCountInString(tail) - 2
	if room < MaxDescription/2 {
		room = MaxDescription / 2
		tail = clipWords(tail, MaxDescription-room-2)
	}
	return describeWithin(s, room) + "\n\n" + tail
}

// location sets where it is: lat and long for a shared point (never 0,0, which is no
// point but a missing one), and address_string for the venue's label, the typed place
// or else the configured default. A submission with none of these fails permanently,
// since every GeoReport server refuses it.
func (c *Open311Client) location(f url.Values, s bot.Submission) error {
	l := s.Location
	point := l != nil && !(l.Lat == 0 && l.Lon == 0)
	label := ""
	if l != nil {
		label = PlainText(l.Label)
	}
	address := label
	if point {
		f.Set("lat", strconv.FormatFloat(l.Lat, 'f', -1, 64))
		f.Set("long", strconv.FormatFloat(l.Lon, 'f', -1, 64))
	} else {
		address = cmp.Or(PlainText(s.LocationText), label, c.cfg.DefaultAddress)
	}
	if address == "" && !point {
		return &bot.SendError{Failure: bot.Permanent,
			Detail: "no location: the submission has no point or place and no default address (OPEN311_ADDRESS) is set"}
	}
	if address != "" {
		f.Set("address_string", address)
	}
	return nil
}

// answer311 is one fact of the submission that may travel as attribute[code].
type answer311 struct{ code, value string }

// answers lists the submission's facts in a fixed order, and sets media_url to the
// first attachment's link (the others are facts media_url_2, …). A link that cannot be
// made is retryable: nothing is posted without it.
func (c *Open311Client) answers(f url.Values, s bot.Submission) ([]answer311, error) {
	var out []answer311
	add := func(code, v string) {
		if v != "" {
			out = append(out, answer311{code, v})
		}
	}
	if s.Location != nil && !(s.Location.Lat == 0 && s.Location.Lon == 0) {
		add("location_text", s.LocationText)
	}
	links, err := c.media(s)
	if err != nil {
		return nil, err
	}
	for i, link := range links {
		if i == 0 {
			f.Set("media_url", link)
		} else {
			add(fmt.Sprintf("media_url_%d", i+1), link)
		}
	}
	add("submission_id", s.ID)
	add("reference", s.Reference)
	add("kind", s.Kind)
	add("program", s.ProgramID)
	add("field", s.Field)
	add("channel", string(s.Conversation.Channel))
	add("lang", s.Lang)
	add("topic", s.Topic)
	add("topic_ref", s.TopicRef)
	if s.Rating > 0 {
		add("rating", strconv.Itoa(s.Rating))
	}
	add("notice_version", s.NoticeVersion)
	add("consent_at", stamp(s.ConsentAt))
	add("submitted_at", stamp(s.SubmittedAt))
	return out, nil
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
	if p, ok := c.cfg.Programs.Programs().Get(s.ProgramID); ok {
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

// media makes the attachments' links, in order. A link that cannot be made is
// retryable: nothing is posted without it.
func (c *Open311Client) media(s bot.Submission) ([]string, error) {
	if c.cfg.MediaURL == nil {
		return nil, nil
	}
	links := make([]string, 0, len(s.Attachments))
	for i, a := range s.Attachments {
		link, err := c.cfg.MediaURL(a, s)
		if err != nil {
			if se, ok := errors.AsType[*bot.SendError](err); ok {
				return nil, se
			}
			return nil, &bot.SendError{Failure: bot.Retryable, Detail: fmt.Sprintf("media link for attachment %d", i+1), Err: err}
		}
		links = append(links, link)
	}
	return links, nil
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
		return "", c.failure(a, string(a.body))
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

// failure classifies a non-2xx answer as every intake does, but for 400: GeoReport v2
// answers it for a "General Service Error (… eg CRM is down)" too, so it is retried,
// for Retry400For from the first attempt, before it counts as refused.
func (c *Open311Client) failure(a answer, detail string) *bot.SendError {
	se := failure(a, detail, c.cfg.Now())
	if a.status == http.StatusBadRequest && c.cfg.Retry400For > 0 {
		se.Failure, se.RetryFor = bot.Retryable, c.cfg.Retry400For
	}
	return se
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
	return cityTime(t).Format(time.RFC3339)
}
