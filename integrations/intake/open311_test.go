package intake_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/sangkien/sangkien/bot"
	"github.com/sangkien/sangkien/integrations/intake"
	"github.com/sangkien/sangkien/integrations/intake/intaketest"
)

const testAPIKey = "o311-key"

var testPrograms = bot.Programs{{
	ID: "thu-do-xanh-2027",
	Fields: []bot.Field{
		{ID: "cay-xanh", ServiceCode: "HN-CAYXANH"},
		{ID: "giao-thong", ServiceCode: "HN-GIAOTHONG"},
		{ID: "van-hoa"}, // no service code
	},
}}

func TestOpen311Form(t *testing.T) {
	srv := intaketest.NewOpen311Server(t, testAPIKey)
	srv.Services("HN-CAYXANH", "HN-GIAOTHONG")
	c := newOpen311Client(t, srv.URL(), func(cfg *intake.Open311Config) {
		cfg.JurisdictionID = "hanoi.gov.vn"
		cfg.MediaURL = func(a bot.Attachment, s bot.Submission) (string, error) {
			return "https://gw.example/media/" + a.Ref + "?sig=x", nil
		}
	})
	sub := submission("s-1")
	sub.Benefit = "Phố mát hơn"
	sub.Location = &bot.Location{Lat: 21.0315, Lon: 105.8236}
	sub.LocationText = "trước số 12 Kim Mã"
	sub.Contact = bot.SubmitterContact{Name: "Trần Thị Lan", Phone: "+84912345678", Email: "lan@example.vn"}
	sub.Attachments = append(sub.Attachments, bot.Attachment{Kind: bot.Document, Ref: "tg-file-2"})
	sub.ConsentAt = time.Date(2026, 11, 28, 9, 29, 0, 0, bot.HoChiMinh())
	sub.NoticeVersion = "2026-01"

	r, err := c.Deliver(context.Background(), sub)
	if err != nil {
		t.Fatal(err)
	}
	if r != (bot.Receipt{IntakeID: "1001", Status: "received"}) {
		t.Errorf("receipt = %+v", r)
	}
	want := url.Values{
		"api_key":                   {testAPIKey},
		"jurisdiction_id":           {"hanoi.gov.vn"},
		"service_code":              {"HN-CAYXANH"},
		"description":               {sub.Title + "\n\n" + strings.TrimSpace(sub.Description) + "\n\nLợi ích: Phố mát hơn"},
		"lat":                       {"21.0315"},
		"long":                      {"105.8236"},
		"first_name":                {"Thị Lan"},
		"last_name":                 {"Trần"},
		"phone":                     {"+84912345678"},
		"email":                     {"lan@example.vn"},
		"media_url":                 {"https://gw.example/media/tg-file-1?sig=x"},
		"attribute[media_url_2]":    {"https://gw.example/media/tg-file-2?sig=x"},
		"attribute[location_text]":  {"trước số 12 Kim Mã"},
		"attribute[submission_id]":  {"s-1"},
		"attribute[reference]":      {"SK-2026-000123"},
		"attribute[kind]":           {"initiative"},
		"attribute[program]":        {"thu-do-xanh-2027"},
		"attribute[field]":          {"cay-xanh"},
		"attribute[channel]":        {"terminal"},
		"attribute[lang]":           {"vi"},
		"attribute[notice_version]": {"2026-01"},
		"attribute[consent_at]":     {"2026-11-28T09:29:00+07:00"},
		"attribute[submitted_at]":   {"2026-11-28T09:30:00+07:00"},
	}
	got := srv.Requests()
	if len(got) != 1 {
		t.Fatalf("requests = %d", len(got))
	}
	if !reflect.DeepEqual(got[0], want) {
		for k := range merge(got[0], want) {
			if g, w := got[0][k], want[k]; !reflect.DeepEqual(g, w) {
				t.Errorf("%s = %q, want %q", k, g, w)
			}
		}
	}
}

func TestOpen311Feedback(t *testing.T) {
	srv := intaketest.NewOpen311Server(t, testAPIKey)
	c := newOpen311Client(t, srv.URL(), func(cfg *intake.Open311Config) {
		cfg.FeedbackServiceCode = "HN-GOPY"
		cfg.DefaultAddress = "Hà Nội"
	})
	sub := bot.Submission{
		ID: "f-1", Reference: "GY-2026-000004", Lang: "en", Proposal: bot.Proposal{Kind: bot.KindFeedback,
			Topic: "program", TopicRef: "thu-do-xanh-2027", ProgramID: "thu-do-xanh-2027", Rating: 4,
			Comment: "Quick answers."},
		Contact:      bot.SubmitterContact{Name: "John Smith"},
		Conversation: bot.ConversationRef{Channel: bot.Telegram, ID: "42"},
	}
	if _, err := c.Deliver(context.Background(), sub); err != nil {
		t.Fatal(err)
	}
	f := srv.Requests()[0]
	for k, want := range map[string]string{
		"service_code":         "HN-GOPY",
		"description":          "Quick answers.\n\nRating: 4/5",
		"address_string":       "Hà Nội",
		"first_name":           "John",
		"last_name":            "Smith",
		"attribute[topic]":     "program",
		"attribute[topic_ref]": "thu-do-xanh-2027",
		"attribute[rating]":    "4",
		"attribute[channel]":   "telegram",
		"attribute[kind]":      "feedback",
	} {
		if got := f.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	for _, k := range []string{"lat", "long", "media_url", "attribute[field]", "email", "attribute[consent_at]"} {
		if f.Has(k) {
			t.Errorf("%s sent: %q", k, f.Get(k))
		}
	}
}

func TestOpen311ServiceCode(t *testing.T) {
	tests := []struct {
		name              string
		kind, program, fl string
		def, feedback     string
		want              string // "" means a permanent error naming the field
	}{
		{"field code", bot.KindInitiative, "thu-do-xanh-2027", "giao-thong", "", "", "HN-GIAOTHONG"},
		{"field code wins over default", bot.KindInitiative, "thu-do-xanh-2027", "cay-xanh", "HN-KHAC", "", "HN-CAYXANH"},
		{"field without code", bot.KindInitiative, "thu-do-xanh-2027", "van-hoa", "", "", ""},
		{"field without code, default", bot.KindInitiative, "thu-do-xanh-2027", "van-hoa", "HN-KHAC", "", "HN-KHAC"},
		{"unknown program", bot.KindInitiative, "het-han", "cay-xanh", "", "", ""},
		{"unknown field, default", bot.KindInitiative, "thu-do-xanh-2027", "y-te", "HN-KHAC", "", "HN-KHAC"},
		{"feedback code", bot.KindFeedback, "", "", "HN-KHAC", "HN-GOPY", "HN-GOPY"},
		{"feedback falls back to default", bot.KindFeedback, "", "", "HN-KHAC", "", "HN-KHAC"},
		{"feedback without codes", bot.KindFeedback, "", "", "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := intaketest.NewOpen311Server(t, testAPIKey)
			c := newOpen311Client(t, srv.URL(), func(cfg *intake.Open311Config) {
				cfg.DefaultServiceCode, cfg.FeedbackServiceCode = tt.def, tt.feedback
			})
			sub := submission("s-1")
			sub.Kind, sub.ProgramID, sub.Field = tt.kind, tt.program, tt.fl
			_, err := c.Deliver(context.Background(), sub)
			if tt.want == "" {
				se := sendError(t, err)
				if se.Failure != bot.Permanent || !strings.Contains(se.Detail, "service_code") ||
					(tt.fl != "" && !strings.Contains(se.Detail, tt.fl)) {
					t.Errorf("error = %+v, want permanent naming field %q", se, tt.fl)
				}
				if srv.Posts() != 0 {
					t.Errorf("posted %d requests", srv.Posts())
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := srv.Requests()[0].Get("service_code"); got != tt.want {
				t.Errorf("service_code = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestOpen311Location(t *testing.T) {
	tests := []struct {
		name     string
		loc      *bot.Location
		text     string
		def      string
		lat, lon string
		address  string
		refused  bool
	}{
		{"shared location: the venue's label is the address", &bot.Location{Lat: 21.0278, Lon: 105.8342, Label: "Hồ Gươm"}, "", "Hà Nội", "21.0278", "105.8342", "Hồ Gươm", false},
		{"shared point without a label", &bot.Location{Lat: 21.0278, Lon: 105.8342}, "", "Hà Nội", "21.0278", "105.8342", "", false},
		{"label in HTML", &bot.Location{Lat: 21.0278, Lon: 105.8342, Label: "<b>Văn Miếu</b>"}, "", "", "21.0278", "105.8342", "Văn Miếu", false},
		{"negative and whole numbers", &bot.Location{Lat: -1, Lon: 105}, "", "", "-1", "105", "", false},
		{"0,0 is no point: the label goes", &bot.Location{Lat: 0, Lon: 0, Label: "Nhà hát Lớn"}, "", "Hà Nội", "", "", "Nhà hát Lớn", false},
		{"0,0 is no point: the default address goes", &bot.Location{}, "", "Hà Nội", "", "", "Hà Nội", false},
		{"typed place", nil, "Ngõ 12 Kim Mã, phường Giảng Võ", "Hà Nội", "", "", "Ngõ 12 Kim Mã, phường Giảng Võ", false},
		{"no place, default address", nil, "", "Hà Nội", "", "", "Hà Nội", false},
		{"no place at all: refused before posting", nil, "", "", "", "", "", true},
		{"0,0 and nothing else: refused before posting", &bot.Location{}, "", "", "", "", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := intaketest.NewOpen311Server(t, testAPIKey)
			c := newOpen311Client(t, srv.URL(), func(cfg *intake.Open311Config) { cfg.DefaultAddress = tt.def })
			sub := submission("s-1")
			sub.Location, sub.LocationText = tt.loc, tt.text
			_, err := c.Deliver(context.Background(), sub)
			if tt.refused {
				if se := sendError(t, err); se.Failure != bot.Permanent || !strings.Contains(se.Detail, "OPEN311_ADDRESS") {
					t.Errorf("error = %+v, want permanent naming OPEN311_ADDRESS", se)
				}
				if srv.Posts() != 0 {
					t.Errorf("posted %d requests without a location", srv.Posts())
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			f := srv.Requests()[0]
			if f.Get("lat") != tt.lat || f.Get("long") != tt.lon || f.Get("address_string") != tt.address {
				t.Errorf("lat %q long %q address_string %q; want %q %q %q",
					f.Get("lat"), f.Get("long"), f.Get("address_string"), tt.lat, tt.lon, tt.address)
			}
		})
	}
}

func TestOpen311Tokens(t *testing.T) {
	tests := []struct {
		name      string
		polls     int // before the token resolves; -1 never
		timeout   time.Duration
		want      bot.Receipt
		wantPolls int
	}{
		{"resolves on the first poll", 0, time.Minute, bot.Receipt{IntakeID: "1001", Status: "received"}, 1},
		{"resolves on the third poll", 2, time.Minute, bot.Receipt{IntakeID: "1001", Status: "received"}, 3},
		{"never resolves: accepted, id later", -1, 30 * time.Millisecond, bot.Receipt{Token: "tok-1001", Status: "received"}, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := intaketest.NewOpen311Server(t, testAPIKey)
			srv.AnswerWithTokens(tt.polls)
			c := newOpen311Client(t, srv.URL(), func(cfg *intake.Open311Config) {
				cfg.PollInterval, cfg.PollTimeout = time.Millisecond, tt.timeout
			})
			r, err := c.Deliver(context.Background(), submission("s-1"))
			if err != nil {
				t.Fatal(err)
			}
			if r != tt.want {
				t.Errorf("receipt = %+v, want %+v", r, tt.want)
			}
			if got := srv.Polls("tok-1001"); tt.wantPolls >= 0 && got != tt.wantPolls {
				t.Errorf("polls = %d, want %d", got, tt.wantPolls)
			}
			if got := len(srv.Requests()); got != 1 {
				t.Errorf("filed %d requests, want 1", got)
			}
		})
	}
}

// A token the server does not know (yet) is polled until the timeout; the delivery still
// succeeds, since the server accepted the request.
func TestOpen311UnknownToken(t *testing.T) {
	srv := intaketest.NewOpen311Server(t, testAPIKey)
	srv.Script(intaketest.Open311Answer{Status: 200, Body: `[{"token":"ghost"}]`})
	c := newOpen311Client(t, srv.URL(), func(cfg *intake.Open311Config) {
		cfg.PollInterval, cfg.PollTimeout = time.Millisecond, 20*time.Millisecond
	})
	r, err := c.Deliver(context.Background(), submission("s-1"))
	if err != nil {
		t.Fatal(err)
	}
	if r != (bot.Receipt{Token: "ghost", Status: "received"}) {
		t.Errorf("receipt = %+v", r)
	}
}

func TestOpen311Failures(t *testing.T) {
	tests := []struct {
		name       string
		answer     intaketest.Open311Answer
		apiKey     string
		failure    bot.SendFailure
		code       int
		retryAfter time.Duration
		detail     string
	}{
		// 400 is also GeoReport's "General Service Error": retried for a day, then refused.
		{"error array", intaketest.Open311Answer{Status: 400, Errors: []intaketest.Open311Error{{Code: 400, Description: "General Service Error: CRM is down"}}},
			testAPIKey, bot.Retryable, 400, 0, "400: General Service Error: CRM is down"},
		{"two errors", intaketest.Open311Answer{Status: 422, Errors: []intaketest.Open311Error{{Code: 422, Description: "lat out of bounds"}, {Code: 422, Description: "email invalid"}}},
			testAPIKey, bot.Permanent, 422, 0, "422: lat out of bounds; 422: email invalid"},
		{"string codes", intaketest.Open311Answer{Status: 400, Body: `[{"code":"E17","description":"duplicate"}]`},
			testAPIKey, bot.Retryable, 400, 0, "E17: duplicate"},
		{"text body", intaketest.Open311Answer{Status: 400, Body: "Bad Request\n"},
			testAPIKey, bot.Retryable, 400, 0, "Bad Request"},
		{"404: unknown service_code", intaketest.Open311Answer{Status: 404, Errors: []intaketest.Open311Error{{Code: 404, Description: "service_code not found"}}},
			testAPIKey, bot.Permanent, 404, 0, "404: service_code not found"},
		{"wrong api key", intaketest.Open311Answer{}, "wrong", bot.Permanent, 403, 0, "403: Invalid api_key"},
		{"500", intaketest.Open311Answer{Status: 500}, testAPIKey, bot.Retryable, 500, 0, "500: Internal Server Error"},
		{"503 with Retry-After", intaketest.Open311Answer{Status: 503, RetryAfter: "120"}, testAPIKey, bot.RateLimited, 503, 2 * time.Minute, ""},
		{"429", intaketest.Open311Answer{Status: 429, RetryAfter: "5"}, testAPIKey, bot.RateLimited, 429, 5 * time.Second, ""},
		{"200 with only an error", intaketest.Open311Answer{Status: 200, Body: `[{"code":400,"description":"no such service"}]`},
			testAPIKey, bot.Permanent, 200, 0, "400: no such service"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := intaketest.NewOpen311Server(t, testAPIKey)
			srv.Script(tt.answer)
			c := newOpen311Client(t, srv.URL(), func(cfg *intake.Open311Config) { cfg.APIKey = tt.apiKey })
			_, err := c.Deliver(context.Background(), submission("s-1"))
			se := sendError(t, err)
			if se.Failure != tt.failure || se.Code != tt.code || se.RetryAfter != tt.retryAfter {
				t.Errorf("error = %+v, want %s code %d after %s", se, tt.failure, tt.code, tt.retryAfter)
			}
			if tt.detail != "" && se.Detail != tt.detail {
				t.Errorf("detail = %q, want %q", se.Detail, tt.detail)
			}
			if want := map[bool]time.Duration{true: 24 * time.Hour}[tt.code == 400]; se.RetryFor != want {
				t.Errorf("retry for %s, want %s", se.RetryFor, want)
			}
		})
	}
}

// Retry400For sets how long a 400 is retried; a negative one refuses it at once.
func TestOpen311Retry400For(t *testing.T) {
	for _, tt := range []struct {
		set     time.Duration
		failure bot.SendFailure
		bound   time.Duration
	}{
		{0, bot.Retryable, 24 * time.Hour},
		{90 * time.Minute, bot.Retryable, 90 * time.Minute},
		{-1, bot.Permanent, 0},
	} {
		srv := intaketest.NewOpen311Server(t, testAPIKey)
		srv.Script(intaketest.Open311Answer{Status: 400})
		c := newOpen311Client(t, srv.URL(), func(cfg *intake.Open311Config) { cfg.Retry400For = tt.set })
		se := sendError(t, deliverErr(c, "s-1"))
		if se.Failure != tt.failure || se.RetryFor != tt.bound {
			t.Errorf("Retry400For %s: error = %+v, want %s for %s", tt.set, se, tt.failure, tt.bound)
		}
	}
}

// Answers a lenient or odd server gives on success.
func TestOpen311OddSuccess(t *testing.T) {
	tests := []struct {
		name string
		body string
		want bot.Receipt
	}{
		{"lone object, numeric id", `{"service_request_id": 638344}`, bot.Receipt{IntakeID: "638344", Status: "received"}},
		{"unreadable: taken, no id", `OK`, bot.Receipt{Status: "received"}},
		{"empty array", `[]`, bot.Receipt{Status: "received"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := intaketest.NewOpen311Server(t, testAPIKey)
			srv.Script(intaketest.Open311Answer{Status: 201, Body: tt.body})
			r, err := newOpen311Client(t, srv.URL(), nil).Deliver(context.Background(), submission("s-1"))
			if err != nil {
				t.Fatal(err)
			}
			if r != tt.want {
				t.Errorf("receipt = %+v, want %+v", r, tt.want)
			}
		})
	}
}

// GeoReport v2 has no idempotency key: a second delivery of one submission files a second
// request, unless the server deduplicates on attribute[submission_id].
func TestOpen311Redelivery(t *testing.T) {
	for _, dedupe := range []bool{false, true} {
		srv := intaketest.NewOpen311Server(t, testAPIKey)
		if dedupe {
			srv.DedupeOnSubmissionID()
		}
		c := newOpen311Client(t, srv.URL(), nil)
		var ids []string
		for range 2 {
			r, err := c.Deliver(context.Background(), submission("s-1"))
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, r.IntakeID)
		}
		want := 2
		if dedupe {
			want = 1
		}
		if got := len(srv.Requests()); got != want || (dedupe && ids[0] != ids[1]) {
			t.Errorf("dedupe %v: filed %d requests with ids %v, want %d", dedupe, got, ids, want)
		}
	}
}

func TestOpen311Media(t *testing.T) {
	permanent := &bot.SendError{Failure: bot.Permanent, Detail: "attachment too large"}
	tests := []struct {
		name    string
		media   func(bot.Attachment, bot.Submission) (string, error)
		failure bot.SendFailure
	}{
		{"link fails: retry later", func(bot.Attachment, bot.Submission) (string, error) { return "", errors.New("no key") }, bot.Retryable},
		{"link refused for good", func(bot.Attachment, bot.Submission) (string, error) { return "", permanent }, bot.Permanent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := intaketest.NewOpen311Server(t, testAPIKey)
			c := newOpen311Client(t, srv.URL(), func(cfg *intake.Open311Config) { cfg.MediaURL = tt.media })
			se := sendError(t, deliverErr(c, "s-1"))
			if se.Failure != tt.failure || srv.Posts() != 0 {
				t.Errorf("error = %+v, posts %d", se, srv.Posts())
			}
		})
	}
}

func TestOpen311Timeout(t *testing.T) {
	srv := intaketest.NewOpen311Server(t, testAPIKey)
	srv.Script(intaketest.Open311Answer{Delay: time.Minute})
	c := newOpen311Client(t, srv.URL(), func(cfg *intake.Open311Config) {
		cfg.HTTP = &http.Client{Timeout: 50 * time.Millisecond}
	})
	if se := sendError(t, deliverErr(c, "s-1")); se.Failure != bot.Retryable || se.Detail != "timeout" {
		t.Errorf("error = %+v, want retryable timeout", se)
	}
}

func TestNewOpen311ClientRefuses(t *testing.T) {
	for _, u := range []string{"", "open311/v2", "mailto:city@example.vn"} {
		if _, err := intake.NewOpen311Client(intake.Open311Config{URL: u}); err == nil {
			t.Errorf("NewOpen311Client(%q) succeeded, want an error", u)
		}
	}
}

func newOpen311Client(t *testing.T, base string, edit func(*intake.Open311Config)) *intake.Open311Client {
	t.Helper()
	cfg := intake.Open311Config{
		URL: base + "/", APIKey: testAPIKey, Programs: testPrograms, Logger: testLogger(t),
		DefaultAddress: "Hà Nội",
		PollInterval:   time.Millisecond,
	}
	if edit != nil {
		edit(&cfg)
	}
	c, err := intake.NewOpen311Client(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func merge(a, b url.Values) map[string]bool {
	keys := map[string]bool{}
	for k := range a {
		keys[k] = true
	}
	for k := range b {
		keys[k] = true
	}
	return keys
}
