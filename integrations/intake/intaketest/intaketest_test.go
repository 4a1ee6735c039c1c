package intaketest_test

import (
	_ "embed"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	json "github.com/go-json-experiment/json/v1"

	"github.com/sangkien/sangkien/integrations/intake"
	"github.com/sangkien/sangkien/integrations/intake/intaketest"
)

// The JSON fake refuses every request that breaks the documented contract, and keeps
// nothing from it.
func TestJSONServerChecks(t *testing.T) {
	const secret = "k"
	body := `{"schema":"sangkien.submission/v1","id":"s-1","reference":"SK-2026-000001","kind":"initiative","contact":{},"conversation":{"channel":"terminal","id":"local"},"lang":"vi","consent_at":"0001-01-01T00:00:00Z","notice_version":"","submitted_at":"0001-01-01T00:00:00Z"}`
	sign := func(b string) string { return intake.Sign([]byte(secret), time.Now(), []byte(b)) }
	tests := []struct {
		name    string
		method  string
		body    string
		headers map[string]string
		want    int
	}{
		{"valid", "POST", body, map[string]string{"Idempotency-Key": "s-1", intake.SignatureHeader: sign(body)}, 200},
		{"GET", "GET", "", nil, 405},
		{"no signature", "POST", body, map[string]string{"Idempotency-Key": "s-1"}, 401},
		{"other secret", "POST", body, map[string]string{"Idempotency-Key": "s-1",
			intake.SignatureHeader: intake.Sign([]byte("x"), time.Now(), []byte(body))}, 401},
		{"stale", "POST", body, map[string]string{"Idempotency-Key": "s-1",
			intake.SignatureHeader: intake.Sign([]byte(secret), time.Now().Add(-10*time.Minute), []byte(body))}, 401},
		{"no key", "POST", body, map[string]string{intake.SignatureHeader: sign(body)}, 400},
		{"key is not the id", "POST", body, map[string]string{"Idempotency-Key": "s-2", intake.SignatureHeader: sign(body)}, 400},
		{"text body", "POST", body, map[string]string{"Idempotency-Key": "s-1", intake.SignatureHeader: sign(body), "Content-Type": "text/plain"}, 415},
		{"other schema", "POST", `{"schema":"v0","id":"s-1"}`, map[string]string{"Idempotency-Key": "s-1", intake.SignatureHeader: sign(`{"schema":"v0","id":"s-1"}`)}, 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := intaketest.NewJSONServer(t, secret)
			h := map[string]string{"Content-Type": "application/json"}
			for k, v := range tt.headers {
				h[k] = v
			}
			got := send(t, tt.method, srv.URL(), tt.body, h)
			if got != tt.want {
				t.Errorf("status = %d, want %d", got, tt.want)
			}
			if n := len(srv.Submissions()); (tt.want == 200) != (n == 1) {
				t.Errorf("kept %d submissions", n)
			}
		})
	}
}

func TestOpen311ServerChecks(t *testing.T) {
	valid := url.Values{"api_key": {"key"}, "service_code": {"HN-1"}, "description": {"d"}, "lat": {"21"}, "long": {"105"},
		"attribute[submission_id]": {"s-1"}, "attribute[reference]": {"SK-2026-000001"}, "attribute[kind]": {"initiative"}}
	with := func(edit func(url.Values)) url.Values {
		f := url.Values{}
		for k, v := range valid {
			f[k] = v
		}
		edit(f)
		return f
	}
	form := "application/x-www-form-urlencoded"
	tests := []struct {
		name  string
		ctype string
		form  url.Values
		want  int
	}{
		{"valid", form, valid, 200},
		{"address instead of lat/long", form, with(func(f url.Values) { f.Del("lat"); f.Del("long"); f.Set("address_string", "Hà Nội") }), 200},
		{"JSON body", "application/json", valid, 400},
		{"wrong key", form, with(func(f url.Values) { f.Set("api_key", "x") }), 403},
		{"no service code", form, with(func(f url.Values) { f.Del("service_code") }), 400},
		{"unknown service code: 404 as the specification says", form, with(func(f url.Values) { f.Set("service_code", "HN-9") }), 404},
		{"charset utf-8", form + "; charset=utf-8", valid, 200},
		{"another charset", form + "; charset=iso-8859-1", valid, 400},
		{"html in the description", form, with(func(f url.Values) { f.Set("description", "<b>Budget</b>") }), 400},
		{"comment in the description", form, with(func(f url.Values) { f.Set("description", "a<!-- x -->") }), 400},
		{"comparison in the description is text", form, with(func(f url.Values) { f.Set("description", "a < b, tim <3\nhết") }), 200},
		{"attribute not in the definition", form, with(func(f url.Values) { f.Set("attribute[colour]", "green") }), 400},
		{"required attribute missing", form, with(func(f url.Values) { f.Del("attribute[reference]") }), 400},
		{"value not in the list", form, with(func(f url.Values) { f.Set("attribute[kind]", "complaint") }), 400},
		{"number that is not", form, with(func(f url.Values) { f.Set("attribute[rating]", "five") }), 400},
		{"datetime that is not", form, with(func(f url.Values) { f.Set("attribute[submitted_at]", "yesterday") }), 400},
		{"string with a line break", form, with(func(f url.Values) { f.Set("attribute[reference]", "SK\n1") }), 400},
		{"list syntax on a single value", form, with(func(f url.Values) { f.Del("attribute[kind]"); f.Set("attribute[kind][]", "initiative") }), 400},
		{"description too long", form, with(func(f url.Values) { f.Set("description", strings.Repeat("ư", 4001)) }), 400},
		{"no location", form, with(func(f url.Values) { f.Del("lat"); f.Del("long") }), 400},
		{"lat without long", form, with(func(f url.Values) { f.Del("long") }), 400},
		{"lat not a number", form, with(func(f url.Values) { f.Set("lat", "north") }), 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := intaketest.NewOpen311Server(t, "key")
			srv.Services("HN-1")
			got := send(t, "POST", srv.URL()+"/requests.json", tt.form.Encode(), map[string]string{"Content-Type": tt.ctype})
			if got != tt.want {
				t.Errorf("status = %d, want %d", got, tt.want)
			}
			if n := len(srv.Requests()); (tt.want == 200) != (n == 1) {
				t.Errorf("filed %d requests", n)
			}
		})
	}
	t.Run("service list and definitions", func(t *testing.T) {
		srv := intaketest.NewOpen311Server(t, "key")
		srv.Define("DMV66", dmv66)
		srv.Define("PLAIN", nil)
		var list []map[string]any
		if got := getJSON(t, srv.URL()+"/services.json", &list); got != 200 {
			t.Fatalf("services.json status = %d", got)
		}
		meta := map[string]any{}
		for _, s := range list {
			meta[s["service_code"].(string)] = s["metadata"]
		}
		if meta["HN-CAYXANH"] != true || meta["DMV66"] != true || meta["PLAIN"] != false {
			t.Errorf("services.json = %v", list)
		}
		var def map[string]any
		if got := getJSON(t, srv.URL()+"/services/DMV66.json", &def); got != 200 || def["service_code"] != "DMV66" {
			t.Errorf("definition status %d: %v", got, def)
		}
		for _, code := range []string{"NOPE", "PLAIN"} {
			if got := send(t, "GET", srv.URL()+"/services/"+code+".json", "", nil); got != 404 {
				t.Errorf("definition of %s: status = %d, want 404", code, got)
			}
		}
		// The specification's own example: a singlevaluelist whose keys are numbers.
		f := url.Values{"api_key": {"key"}, "service_code": {"DMV66"}, "description": {"d"}, "address_string": {"Hà Nội"},
			"attribute[WHISHETN]": {"124"}}
		if got := send(t, "POST", srv.URL()+"/requests.json", f.Encode(), map[string]string{"Content-Type": form}); got != 200 {
			t.Errorf("DMV66 request: status = %d, want 200", got)
		}
		f.Set("attribute[WHISHETN]", "125")
		if got := send(t, "POST", srv.URL()+"/requests.json", f.Encode(), map[string]string{"Content-Type": form}); got != 400 {
			t.Errorf("DMV66 request with an unknown key: status = %d, want 400", got)
		}
		f.Set("service_code", "PLAIN")
		if got := send(t, "POST", srv.URL()+"/requests.json", f.Encode(), map[string]string{"Content-Type": form}); got != 400 {
			t.Errorf("attribute for a service without metadata: status = %d, want 400", got)
		}
	})
	t.Run("unknown token", func(t *testing.T) {
		srv := intaketest.NewOpen311Server(t, "key")
		if got := send(t, "GET", srv.URL()+"/tokens/nope.json", "", nil); got != 404 {
			t.Errorf("status = %d, want 404", got)
		}
	})
}

func send(t *testing.T, method, u, body string, headers map[string]string) int {
	t.Helper()
	req, err := http.NewRequest(method, u, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

//go:embed testdata/open311/definition-dmv66.json
var dmv66 []byte

func getJSON(t *testing.T, u string, v any) int {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	return resp.StatusCode
}
