package intake

import (
	"cmp"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/sangkien/sangkien/bot"
)

// This file is what a gateway needs to set the intake up: its settings, their checks,
// and the client of the kind they name.

// Settings say where confirmed submissions go and how status callbacks are checked;
// the gateway reads them from the environment.
type Settings struct {
	// Kind is json, open311 or file (INTAKE_KIND); Check settles an empty one.
	Kind   string
	File   string // INTAKE_FILE: the file intake's JSONL file
	URL    string // INTAKE_URL
	Secret string // INTAKE_SECRET: signs submissions (json) and checks callbacks
	APIKey string // INTAKE_API_KEY (open311)
	// Concurrency is INTAKE_CONCURRENCY as given ("8"); Check reads it into Deliveries.
	Concurrency string
	// Deliveries is how many submissions the outbox worker delivers at once.
	Deliveries int
	// Open311 fills what a submission cannot give an Open311 server (OPEN311_*).
	Open311 Open311Defaults
}

// Open311Defaults are the OPEN311_* settings.
type Open311Defaults struct {
	ServiceCode, FeedbackCode, Address, Jurisdiction string
	// Retry400For is OPEN311_RETRY_400_FOR as given ("24h"; "0": a 400 is refused at
	// once); Check reads it.
	Retry400For string
	retry400    time.Duration
}

// Check settles Kind (json when URL is set, file otherwise) and checks what that kind
// needs. Every error names its variable, never a value that may carry a credential.
func (s *Settings) Check() error {
	if s.Kind == "" {
		s.Kind = "file"
		if s.URL != "" {
			s.Kind = "json"
		}
	}
	n, err := strconv.Atoi(cmp.Or(strings.TrimSpace(s.Concurrency), "8"))
	if err != nil || n < 1 || n > maxConcurrency {
		return fmt.Errorf("INTAKE_CONCURRENCY=%q: want a whole number from 1 to %d", s.Concurrency, maxConcurrency)
	}
	s.Deliveries = n
	switch s.Kind {
	case "file":
	case "json", "open311":
		if s.URL == "" {
			return fmt.Errorf("INTAKE_URL: required with INTAKE_KIND=%s", s.Kind)
		}
		u, err := url.Parse(s.URL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return errors.New("INTAKE_URL: want an absolute http(s) URL")
		}
		if s.Kind == "json" && s.Secret == "" {
			return errors.New("INTAKE_SECRET: required with INTAKE_KIND=json: every submission is signed with it")
		}
		if s.Kind == "open311" {
			return s.Open311.check()
		}
	default:
		return fmt.Errorf("INTAKE_KIND=%q: want json, open311 or file", s.Kind)
	}
	return nil
}

// maxConcurrency bounds INTAKE_CONCURRENCY: more calls at once than this would load
// a city server more than it would help.
const maxConcurrency = 256

// check reads what an Open311 intake needs. A GeoReport server refuses a request
// without a location, and feedback (or an initiative whose author skipped the place)
// has none of its own: OPEN311_ADDRESS is its place.
func (d *Open311Defaults) check() error {
	if strings.TrimSpace(d.Address) == "" {
		return errors.New("OPEN311_ADDRESS: required with INTAKE_KIND=open311: GeoReport servers refuse a request " +
			"without a location, and feedback has none; set the city's address, e.g. \"Hà Nội\"")
	}
	v := cmp.Or(strings.TrimSpace(d.Retry400For), "24h")
	dur, err := time.ParseDuration(v)
	if err != nil || dur < 0 {
		return fmt.Errorf("OPEN311_RETRY_400_FOR=%q: want a duration such as 24h (0: refuse a 400 at once)", d.Retry400For)
	}
	d.retry400 = dur
	if dur == 0 {
		d.retry400 = -1 // Open311Config: negative is never
	}
	return nil
}

// Remote reports whether the intake is the city's (json, open311), whose receipt the
// citizen is told; the local file is not the city.
func (s Settings) Remote() bool { return s.Kind == "json" || s.Kind == "open311" }

// NewRemote builds the client of the city's intake named by s.Kind. mediaURL, when not
// nil, gives each attachment's link; programs map fields to Open311 service codes.
func NewRemote(s Settings, programs bot.ProgramSource, mediaURL func(bot.Attachment, bot.Submission) (string, error), log *slog.Logger) (bot.Intake, error) {
	var (
		in  bot.Intake
		err error
	)
	switch s.Kind {
	case "json":
		in, err = NewJSONClient(JSONConfig{URL: s.URL, Secret: s.Secret, MediaURL: mediaURL, Logger: log})
	case "open311":
		d := s.Open311
		if d.FeedbackCode == "" && d.ServiceCode == "" {
			log.Warn("OPEN311_FEEDBACK_CODE and OPEN311_SERVICE_CODE are empty: feedback cannot be filed "+
				"and goes to the failed list (sangkien intake failed)", "component", "intake")
		}
		in, err = NewOpen311Client(Open311Config{
			URL: s.URL, APIKey: s.APIKey, Programs: programs, Logger: log, MediaURL: mediaURL,
			DefaultServiceCode: d.ServiceCode, FeedbackServiceCode: d.FeedbackCode,
			DefaultAddress: d.Address, JurisdictionID: d.Jurisdiction, Retry400For: d.retry400,
		})
	default:
		return nil, fmt.Errorf("INTAKE_KIND=%q: not a remote intake", s.Kind)
	}
	if err != nil {
		return nil, fmt.Errorf("INTAKE_URL: %w", err)
	}
	return in, nil
}
