package zalotest

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	json "github.com/go-json-experiment/json/v1"
)

// send posts one consultation message with access and returns Zalo's error code.
func send(t *testing.T, s *Server, access, userID string) (int, string) {
	t.Helper()
	body := `{"recipient":{"user_id":"` + userID + `"},"message":{"text":"Xin chào"}}`
	req, err := http.NewRequest(http.MethodPost, s.URL+"/v3.0/oa/message/cs", strings.NewReader(body))
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
		Error   int    `json:"error"`
		Message string `json:"message"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&a); err != nil {
		t.Fatal(err)
	}
	return a.Error, a.Message
}

// refresh trades the refresh token for a new pair and returns the new access token.
func refresh(t *testing.T, s *Server, token string) string {
	t.Helper()
	form := url.Values{"app_id": {AppID}, "refresh_token": {token}, "grant_type": {"refresh_token"}}
	req, err := http.NewRequest(http.MethodPost, s.URL+"/v4/oa/access_token", strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("secret_key", AppSecret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var a struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&a); err != nil || a.AccessToken == "" {
		t.Fatalf("refresh: %v %+v", err, a)
	}
	return a.AccessToken
}

// Zalo voids the old access token when it issues a new pair.
func TestOldAccessTokenStopsWorking(t *testing.T) {
	s := NewServer(t)
	if code, msg := send(t, s, AccessToken, "7392845012349876543"); code != 0 {
		t.Fatalf("first token refused: %d %s", code, msg)
	}
	fresh := refresh(t, s, RefreshToken)
	if code, _ := send(t, s, AccessToken, "7392845012349876543"); code != -216 {
		t.Errorf("old access token after a refresh: error %d, want -216", code)
	}
	if code, msg := send(t, s, fresh, "7392845012349876543"); code != 0 {
		t.Errorf("new access token refused: %d %s", code, msg)
	}
}

// Zalo's user ids are numbers; anything else is refused as an invalid user_id.
func TestUserIDMustBeNumeric(t *testing.T) {
	s := NewServer(t)
	for _, id := range []string{"abc", "12ab", "zl:7392845012349876543", "-1"} {
		if code, msg := send(t, s, AccessToken, id); code != -201 || !strings.Contains(msg, "user_id") {
			t.Errorf("user_id %q: error %d %q, want -201 naming user_id", id, code, msg)
		}
	}
	if n := len(s.Sent("abc")); n != 0 {
		t.Errorf("%d messages delivered to a non-numeric id", n)
	}
}

// Once asked to, the fake refuses consultation messages outside the interaction
// window as Zalo does: -232 to a user who never interacted, -230 a week after the last
// interaction, and lets them through again when the user interacts again.
func TestInteractionWindow(t *testing.T) {
	s := NewServer(t)
	now := time.Date(2026, 12, 3, 15, 0, 0, 0, time.UTC)
	s.SetClock(func() time.Time { return now })
	const lan, minh = "7392845012349876543", "7392845012349876544"
	if code, _ := send(t, s, AccessToken, lan); code != 0 {
		t.Fatalf("without RequireInteraction: error %d", code)
	}
	s.RequireInteraction()
	s.Interacted(lan, now.Add(-6*24*time.Hour))
	if code, _ := send(t, s, AccessToken, lan); code != 0 {
		t.Errorf("six days after the last interaction: error %d", code)
	}
	if code, msg := send(t, s, AccessToken, minh); code != -232 {
		t.Errorf("a user who never interacted: error %d %q, want -232", code, msg)
	}
	now = now.Add(24 * time.Hour)
	if code, msg := send(t, s, AccessToken, lan); code != -230 || !strings.Contains(msg, "7 days") {
		t.Errorf("seven days after: error %d %q, want -230", code, msg)
	}
	s.Interacted(lan, now.Add(-8*24*time.Hour)) // an older event arriving late changes nothing
	s.Interacted(lan, now)
	if code, _ := send(t, s, AccessToken, lan); code != 0 {
		t.Errorf("after the user wrote again: error %d", code)
	}
}

// TestOAInfo: getoa answers the OA's id for a valid access token only, as Zalo does.
func TestOAInfo(t *testing.T) {
	s := NewServer(t)
	for _, tt := range []struct {
		access string
		want   string // the code, then the id
	}{{AccessToken, "0 " + OAID}, {"access-forged", "-216 "}, {"", "-216 "}} {
		req, _ := http.NewRequest(http.MethodGet, s.URL+"/v2.0/oa/getoa", nil)
		if tt.access != "" {
			req.Header.Set("access_token", tt.access)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var a struct {
			Error int `json:"error"`
			Data  struct {
				OAID string `json:"oa_id"`
			} `json:"data"`
		}
		err = json.NewDecoder(resp.Body).Decode(&a)
		resp.Body.Close()
		if got := strconv.Itoa(a.Error) + " " + a.Data.OAID; err != nil || got != tt.want {
			t.Errorf("getoa with %q = %q, %v; want %q", tt.access, got, err, tt.want)
		}
	}
	resp, err := http.Post(s.URL+"/v2.0/oa/getoa", "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("POST getoa = %d, want 404 as for any unknown call", resp.StatusCode)
	}
}
