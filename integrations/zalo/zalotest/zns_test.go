package zalotest

import (
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	json "github.com/go-json-experiment/json/v1"
)

// postZNS posts body to the ZNS endpoint with access and returns Zalo's error code.
func postZNS(t *testing.T, s *Server, access, body string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, s.URL+"/message/template", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("access_token", access)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var a struct {
		Error *int `json:"error"`
		Data  struct {
			MsgID string `json:"msg_id"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&a); err != nil || a.Error == nil {
		t.Fatalf("answer: %v", err)
	}
	if *a.Error == 0 && a.Data.MsgID == "" {
		t.Error("a sent message without a msg_id")
	}
	return *a.Error
}

// The fake ZNS endpoint refuses what Zalo refuses, with Zalo's codes, and sends the rest.
func TestZNSRefusals(t *testing.T) {
	afternoon := time.Date(2026, 12, 3, 15, 0, 0, 0, vietnam)
	night := time.Date(2026, 12, 3, 22, 0, 0, 0, vietnam)
	early := time.Date(2026, 12, 4, 5, 59, 0, 0, vietnam)
	const good = `{"phone":"84912345678","template_id":"t1","template_data":{"name":"Lan","deadline":"15/12/2026"},"tracking_id":"x"}`
	tests := []struct {
		name   string
		access string
		body   string
		at     time.Time
		want   int
	}{
		{"sent", AccessToken, good, afternoon, 0},
		{"a token it did not issue", "access-forged", good, afternoon, -124},
		{"no token", "", good, afternoon, -124},
		{"phone in 0 form", AccessToken, strings.Replace(good, "84912345678", "0912345678", 1), afternoon, -108},
		{"phone with a plus", AccessToken, strings.Replace(good, "84912345678", "+84912345678", 1), afternoon, -108},
		{"phone with letters", AccessToken, strings.Replace(good, "84912345678", "8491234567x", 1), afternoon, -108},
		{"unknown template", AccessToken, strings.Replace(good, `"t1"`, `"t9"`, 1), afternoon, -109},
		{"template not approved", AccessToken, strings.Replace(good, `"t1"`, `"pending"`, 1), afternoon, -131},
		{"no data", AccessToken, `{"phone":"84912345678","template_id":"t1","template_data":{}}`, afternoon, -111},
		{"a parameter missing", AccessToken, `{"phone":"84912345678","template_id":"t1","template_data":{"name":"Lan"}}`, afternoon, -112},
		{"a parameter it does not have", AccessToken,
			`{"phone":"84912345678","template_id":"t1","template_data":{"name":"Lan","deadline":"15/12/2026","ward":"Ba Đình"}}`, afternoon, -112},
		{"a value that is not text", AccessToken,
			`{"phone":"84912345678","template_id":"t1","template_data":{"name":"Lan","deadline":15}}`, afternoon, -112},
		{"at 22:00", AccessToken, good, night, -133},
		{"at 05:59", AccessToken, good, early, -133},
		{"a night template at 22:00", AccessToken, strings.Replace(good, `"t1"`, `"otp"`, 1), night, 0},
		{"not JSON", AccessToken, `phone=84912345678`, afternoon, -100},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := NewServer(t)
			s.AddTemplate(Template{ID: "t1", Params: []string{"name", "deadline"}})
			s.AddTemplate(Template{ID: "pending", Params: []string{"name", "deadline"}, Pending: true})
			s.AddTemplate(Template{ID: "otp", Params: []string{"name", "deadline"}, Night: true})
			at := tt.at
			s.SetClock(func() time.Time { return at })
			if got := postZNS(t, s, tt.access, tt.body); got != tt.want {
				t.Errorf("error %d, want %d", got, tt.want)
			}
			sent := len(s.ZNSSent("84912345678"))
			if want := map[bool]int{true: 1, false: 0}[tt.want == 0]; sent != want {
				t.Errorf("%d delivered, want %d", sent, want)
			}
			if msgs := s.ZNSMessages(); len(msgs) != 1 || msgs[0].Error != tt.want {
				t.Errorf("recorded %+v", msgs)
			}
		})
	}
}

// A new pair voids the old access token for ZNS too: the fake shares one token table.
func TestZNSOldAccessTokenStopsWorking(t *testing.T) {
	s := NewServer(t)
	s.AddTemplate(Template{ID: "t1", Params: []string{"name"}, Night: true})
	body := `{"phone":"84912345678","template_id":"t1","template_data":{"name":"Lan"}}`
	fresh := refresh(t, s, RefreshToken)
	if code := postZNS(t, s, AccessToken, body); code != -124 {
		t.Errorf("old access token after a refresh: error %d, want -124", code)
	}
	if code := postZNS(t, s, fresh, body); code != 0 {
		t.Errorf("new access token refused: %d", code)
	}
	if got := s.WaitZNS(1); len(got) != 2 {
		t.Errorf("recorded %+v", got)
	}
}

// The fake answers in the shapes of Zalo's recorded answers (../testdata): the same
// fields at every level, the same codes.
func TestZNSAnswersAreZalos(t *testing.T) {
	s := NewServer(t)
	s.AddTemplate(Template{ID: "t1", Params: []string{"name"}, Night: true})
	answer := func(access string) map[string]any {
		t.Helper()
		req, err := http.NewRequest(http.MethodPost, s.URL+"/message/template",
			strings.NewReader(`{"phone":"84912345678","template_id":"t1","template_data":{"name":"Lan"}}`))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("access_token", access)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var a map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&a); err != nil {
			t.Fatal(err)
		}
		return a
	}
	recorded := func(name string) map[string]any {
		t.Helper()
		b, err := os.ReadFile(filepath.Join("..", "testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		var a map[string]any
		if err := json.Unmarshal(b, &a); err != nil {
			t.Fatal(err)
		}
		return a
	}
	if got, want := shape(answer(AccessToken)), shape(recorded("zns_ok.json")); got != want {
		t.Errorf("success answer shaped %s, Zalo's %s", got, want)
	}
	if got, want := answer("forged"), recorded("zns_token_invalid.json"); got["error"] != want["error"] || shape(got) != shape(want) {
		t.Errorf("refused token answered %v, Zalo %v", got, want)
	}
}

// shape is a JSON value's field names and kinds, nested, in a stable order.
func shape(v any) string {
	switch v := v.(type) {
	case map[string]any:
		keys := slices.Sorted(maps.Keys(v))
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = k + ":" + shape(v[k])
		}
		return "{" + strings.Join(parts, ",") + "}"
	case string:
		return "string"
	case float64:
		return "number"
	}
	return "other"
}
