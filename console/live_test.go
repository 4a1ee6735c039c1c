package console_test

import (
	"bufio"
	"net/http"
	"strings"
	"testing"
	"time"
)

// A signed-in page's event stream names each conversation that changed (and nothing
// personal), refuses a visitor without a session, and ends when the console closes.
func TestLiveEvents(t *testing.T) {
	d := newDesk(t, false)
	if res, _ := d.get(d.browser(), "/console/events"); res.StatusCode != http.StatusSeeOther {
		t.Errorf("events without a session: %d, want a redirect to the login", res.StatusCode)
	}
	c := d.browser()
	d.login(c, lan, lanPassword)
	res, err := c.Get(d.srv.URL + "/console/events")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if ct := res.Header.Get("Content-Type"); res.StatusCode != 200 || ct != "text/event-stream" {
		t.Fatalf("events: %d %q", res.StatusCode, ct)
	}
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(res.Body)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	next := func(what string) (string, bool) {
		t.Helper()
		select {
		case l, ok := <-lines:
			return l, ok
		case <-time.After(5 * time.Second):
			t.Fatalf("%s: the stream said nothing", what)
			return "", false
		}
	}
	if l, _ := next("opening"); l != "retry: 3000" {
		t.Errorf("the stream opens with %q", l)
	}
	next("opening")
	conv := d.citizenAsks()
	var got []string
	for len(got) < 4 {
		l, _ := next("a citizen's change")
		got = append(got, l)
	}
	want := []string{"event: change", "data: " + conv.Key(), ""}
	if strings.Join(got[:3], "\n") != strings.Join(want, "\n") {
		t.Errorf("after the citizen wrote, the stream says %q, want %q first", got, want)
	}
	for _, l := range got {
		if strings.Contains(l, "cán bộ") || strings.Contains(l, "xin chào") {
			t.Errorf("the stream carries the citizen's words: %q", l)
		}
	}
	d.console.Close()
	for {
		if _, ok := next("closing"); !ok {
			break
		}
	}
}
