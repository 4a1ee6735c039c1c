package console_test

import (
	"bufio"
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sangkien/sangkien/console"
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

// countingChanges counts the subscriptions the console opens.
type countingChanges struct {
	console.Changes
	mu sync.Mutex
	n  int
}

func (c *countingChanges) DeskChanges(ctx context.Context) <-chan string {
	c.mu.Lock()
	c.n++
	c.mu.Unlock()
	return c.Changes.DeskChanges(ctx)
}

// Every page of a process shares one subscription; a member of staff has at most
// StreamsPerMember streams open, and the next is told to wait.
func TestLiveStreamsShareOneSubscription(t *testing.T) {
	counter := &countingChanges{}
	d := newDesk(t, false, func(c *console.Config) { counter.Changes = c.Changes; c.Changes = counter })
	c := d.browser()
	d.login(c, lan, lanPassword)
	open := func() *http.Response {
		t.Helper()
		res, err := c.Get(d.srv.URL + "/console/events")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { res.Body.Close() })
		return res
	}
	for i := range console.StreamsPerMember {
		if res := open(); res.StatusCode != 200 {
			t.Fatalf("stream %d: %d", i+1, res.StatusCode)
		}
	}
	if res := open(); res.StatusCode != http.StatusTooManyRequests || res.Header.Get("Retry-After") == "" {
		t.Errorf("one stream too many: %d %q", res.StatusCode, res.Header.Get("Retry-After"))
	}
	other := d.browser()
	d.login(other, minh, minhPassword)
	res, err := other.Get(d.srv.URL + "/console/events")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Errorf("a colleague's stream: %d", res.StatusCode)
	}
	counter.mu.Lock()
	defer counter.mu.Unlock()
	if counter.n != 1 {
		t.Errorf("%d subscriptions for %d streams, want 1", counter.n, console.StreamsPerMember+1)
	}
}

// losingChanges loses its first subscription at once, as when Redis restarts.
type losingChanges struct{ countingChanges }

func (c *losingChanges) DeskChanges(ctx context.Context) <-chan string {
	c.mu.Lock()
	first := c.n == 0
	if first {
		c.n++
	}
	c.mu.Unlock()
	if first {
		lost := make(chan string)
		close(lost)
		return lost
	}
	ch := c.Changes.DeskChanges(ctx) // counted once Redis confirmed it
	c.mu.Lock()
	c.n++
	c.mu.Unlock()
	return ch
}

// A lost subscription is made again, and the streams hear of changes after it.
func TestLiveSubscribesAgain(t *testing.T) {
	lose := &losingChanges{}
	d := newDesk(t, false, func(c *console.Config) { lose.Changes = c.Changes; c.Changes = lose })
	c := d.browser()
	d.login(c, lan, lanPassword)
	res, err := c.Get(d.srv.URL + "/console/events")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	for tries := 0; ; tries++ {
		lose.mu.Lock()
		n := lose.n
		lose.mu.Unlock()
		if n >= 2 {
			break
		}
		if tries > 250 {
			t.Fatal("the subscription was not made again")
		}
		time.Sleep(20 * time.Millisecond)
	}
	conv := d.citizenAsks()
	sc := bufio.NewScanner(res.Body)
	for sc.Scan() {
		if sc.Text() == "data: "+conv.Key() {
			return
		}
	}
	t.Fatalf("the stream ended without the change: %v", sc.Err())
}
