package main

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/sangkien/sangkien/integrations/telegram/telegramtest"
)

// An admin reopens a closed program in `sangkien serve`'s console: the next citizen
// who starts an initiative is offered it, with no restart; the gateway's flows read
// the same catalog as its console.
func TestProgramEditReachesTheFlows(t *testing.T) {
	staffBcryptCost = bcrypt.MinCost
	t.Cleanup(func() { staffBcryptCost = 12 })
	api := telegramtest.NewServer(t)
	env := newTestEnv(t).set(telegramVars(api)...)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addStaff(t, ctx, env, "an@hanoi.gov.vn", "Lê An", "admin", "mật khẩu của An 2026")
	addr, done := startServe(t, ctx, env)
	base := "http://" + addr
	const reopened = "Trật tự đô thị và vỉa hè 2026" // closed on 30/09/2026 in the shipped file

	programList := func(chat int64, id *int) string {
		t.Helper()
		c := tgCitizen{chat: chat, lang: "vi", nextID: id}
		for _, u := range [][]byte{c.text("/start"), c.press("cmd:initiative"), c.press("agree")} {
			postUpdate(t, api, addr, u)
		}
		waitChannel(t, func() []string { return sentTo(api, chat) }, "hạn chót")
		return strings.Join(sentTo(api, chat), "\n")
	}
	first, second := 100, 200
	if list := programList(111222333, &first); strings.Contains(list, reopened) {
		t.Fatalf("the closed program is offered before the edit:\n%s", list)
	}

	jar, _ := cookiejar.New(nil)
	admin := &http.Client{Jar: jar}
	post := func(path string, v url.Values) *http.Response {
		t.Helper()
		res, err := admin.PostForm(base+path, v)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		return res
	}
	post("/console/login", url.Values{"email": {"an@hanoi.gov.vn"}, "password": {"mật khẩu của An 2026"}})
	res, err := admin.Get(base + "/console/programs")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(res.Body)
	res.Body.Close()
	m := regexp.MustCompile(`data-csrf="([^"]+)"`).FindSubmatch(page)
	if res.StatusCode != http.StatusOK || m == nil {
		t.Fatalf("the programs page: %d", res.StatusCode)
	}
	res = post("/console/programs/trat-tu-do-thi-2026", url.Values{"csrf": {string(m[1])},
		"name_vi": {reopened}, "name_en": {"Urban order and sidewalks 2026"},
		"opens": {"2026-03-01T00:00"}, "deadline": {"2099-12-31T17:00"}, "before": {"1d"}})
	if res.StatusCode != http.StatusOK || !strings.HasSuffix(res.Request.URL.String(), "/console/programs?flash=program_saved") {
		t.Fatalf("the edit: %d at %s", res.StatusCode, res.Request.URL)
	}

	if list := programList(444555666, &second); !strings.Contains(list, reopened) || !strings.Contains(list, "31/12/2099") {
		t.Errorf("the reopened program is not offered after the edit:\n%s", list)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("serve: %v", err)
	}
}
