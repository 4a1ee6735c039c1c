package consoletest

import (
	"bytes"
	"fmt"
	"image/png"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/chromedp"
)

// formPage posts its form with fetch, as the console's forms do, and shows the answer.
const formPage = `<!doctype html>
<meta charset="utf-8">
<title>form</title>
<form id="f">
  <label for="name">Name</label>
  <input id="name" name="name">
  <button type="submit">Send</button>
</form>
<p id="answer" hidden></p>
<script>
document.getElementById("f").addEventListener("submit", async (e) => {
  e.preventDefault();
  const r = await fetch("/greet", {method: "POST", body: new URLSearchParams(new FormData(e.target))});
  const answer = document.getElementById("answer");
  answer.textContent = await r.text();
  answer.hidden = false;
});
</script>`

func TestFormPostsToServer(t *testing.T) {
	var mu sync.Mutex
	var got []string
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, formPage)
	})
	mux.HandleFunc("POST /greet", func(w http.ResponseWriter, r *http.Request) {
		name := r.FormValue("name")
		mu.Lock()
		got = append(got, name)
		mu.Unlock()
		fmt.Fprintf(w, "Xin chào, %s!", name)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	ctx := Browser(t)
	const typed = "Nguyễn Thu Trang"
	if err := chromedp.Do(ctx,
		chromedp.Navigate(srv.URL),
		chromedp.SendKeys(chromedp.ID("name"), typed),
		chromedp.Click(chromedp.CSS(`button[type=submit]`)),
		chromedp.WaitVisible(chromedp.ID("answer")),
	); err != nil {
		t.Fatal(err)
	}
	text, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("answer")))
	if err != nil {
		t.Fatal(err)
	}
	if want := "Xin chào, " + typed + "!"; text != want {
		t.Errorf("the page shows %q, want %q", text, want)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 1 || got[0] != typed {
		t.Errorf("the server got %q, want [%q]", got, typed)
	}
}

// feedPage follows the server's events, as the console's live pages do.
const feedPage = `<!doctype html>
<meta charset="utf-8">
<title>feed</title>
<ol id="feed"></ol>
<script>
const feed = document.getElementById("feed");
new EventSource("/events").onmessage = (e) => {
  const li = document.createElement("li");
  li.textContent = e.data;
  feed.append(li);
};
</script>`

func TestEventSourceUpdatesPage(t *testing.T) {
	connected := make(chan struct{}, 1)
	events := make(chan string)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, feedPage)
	})
	mux.HandleFunc("GET /events", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		w.Header().Set("Cache-Control", "no-cache")
		w.WriteHeader(http.StatusOK)
		http.NewResponseController(w).Flush()
		select {
		case connected <- struct{}{}:
		default:
		}
		for {
			select {
			case <-r.Context().Done():
				return
			case ev := <-events:
				fmt.Fprintf(w, "data: %s\n\n", ev)
				http.NewResponseController(w).Flush()
			}
		}
	})
	// Started before the browser so that it is closed after it: the open event stream
	// ends when the browser goes, and Close waits for it.
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	ctx := Browser(t)
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL)); err != nil {
		t.Fatal(err)
	}
	select {
	case <-connected:
	case <-ctx.Done():
		t.Fatalf("the page never opened its event stream: %v", ctx.Err())
	}
	// Each event is sent only after the page showed the one before, so the list grows
	// while the page stays open: it is the stream, not a reload, that updates it.
	sent := []string{"Lan took over conversation 7", "Lan handed conversation 7 back"}
	for i, ev := range sent {
		select {
		case events <- ev:
		case <-ctx.Done():
			t.Fatalf("event %d: %v", i+1, ctx.Err())
		}
		sel := chromedp.CSS(fmt.Sprintf("#feed li:nth-child(%d)", i+1))
		if err := chromedp.Do(ctx, chromedp.WaitVisible(sel)); err != nil {
			t.Fatalf("event %d never showed: %v", i+1, err)
		}
	}
	text, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("feed")))
	if err != nil {
		t.Fatal(err)
	}
	if want := strings.Join(sent, "\n"); text != want {
		t.Errorf("the feed shows %q, want %q", text, want)
	}
}

func TestScreenshotIsFullPage(t *testing.T) {
	const pageHeight = 2400 // taller than the window, so a window-only capture would show
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `<!doctype html><title>tall</title>
<body style="margin:0"><div style="height:%dpx;background:linear-gradient(#fff,#036)">tall</div></body>`, pageHeight)
	}))
	t.Cleanup(srv.Close)

	ctx := Browser(t)
	path := filepath.Join(t.TempDir(), "screens", "tall.png") // screens/ does not exist yet
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL)); err != nil {
		t.Fatal(err)
	}
	before, err := chromedp.Run(ctx, innerSize())
	if err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, Screenshot(path)); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("%s is not a PNG: %v", path, err)
	}
	if b := img.Bounds(); b.Dx() != WindowWidth || b.Dy() < pageHeight {
		t.Errorf("the screenshot is %dx%d, want %d wide and at least %d high", b.Dx(), b.Dy(), WindowWidth, pageHeight)
	}
	// The page goes on in the window it had, for the test's next steps.
	after, err := chromedp.Run(ctx, innerSize())
	if err != nil {
		t.Fatal(err)
	}
	if after != before {
		t.Errorf("the page was %dx%d before the screenshot and %dx%d after", before[0], before[1], after[0], after[1])
	}
}

// innerSize is the size of the page's viewport, in CSS pixels.
func innerSize() chromedp.Action[[2]int] {
	return chromedp.Evaluate[[2]int](`[window.innerWidth, window.innerHeight]`)
}

// fatalRecorder is a testing.TB whose Fatal and Skip end the calling goroutine, as the
// real ones do, and remember that they were called, so that a test can see how Browser
// gives up.
type fatalRecorder struct {
	testing.TB
	fatal   string
	skipped bool
}

func (r *fatalRecorder) Fatal(args ...any) { r.fatal = fmt.Sprint(args...); runtime.Goexit() }
func (r *fatalRecorder) Fatalf(format string, args ...any) {
	r.fatal = fmt.Sprintf(format, args...)
	runtime.Goexit()
}
func (r *fatalRecorder) Skip(...any)          { r.skipped = true; runtime.Goexit() }
func (r *fatalRecorder) Skipf(string, ...any) { r.skipped = true; runtime.Goexit() }
func (r *fatalRecorder) SkipNow()             { r.skipped = true; runtime.Goexit() }

// browserGivesUp runs Browser with r and reports whether it returned a context.
func browserGivesUp(t *testing.T, r *fatalRecorder) (returned bool) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		Browser(r)
		returned = true
	}()
	<-done
	return returned
}

func TestBrowserFailsWithoutChromium(t *testing.T) {
	t.Setenv("CHROMIUM", "")
	t.Setenv("PATH", t.TempDir())
	r := &fatalRecorder{TB: t}
	if browserGivesUp(t, r) {
		t.Fatal("Browser returned with no browser installed")
	}
	if r.skipped {
		t.Fatal("Browser skipped the test; it must fail it")
	}
	for _, want := range []string{"apt-get install chromium", "CHROMIUM"} {
		if !strings.Contains(r.fatal, want) {
			t.Errorf("Browser failed with %q, which does not say %q", r.fatal, want)
		}
	}
}

// TestBrowserFlags starts a stand-in browser that writes down its arguments and exits,
// to read the command line that Browser gives a real one.
func TestBrowserFlags(t *testing.T) {
	dir := t.TempDir()
	argsFile := filepath.Join(dir, "args")
	fake := filepath.Join(dir, "fake-chromium")
	script := "#!/bin/sh\nprintf '%s\\n' \"$@\" > " + argsFile + "\nexit 1\n"
	if err := os.WriteFile(fake, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("CHROMIUM", fake)
	r := &fatalRecorder{TB: t}
	if browserGivesUp(t, r) {
		t.Fatal("Browser returned although the browser exited at once")
	}
	if !strings.Contains(r.fatal, fake) {
		t.Errorf("Browser failed with %q, which does not name %s", r.fatal, fake)
	}
	data, err := os.ReadFile(argsFile)
	if err != nil {
		t.Fatalf("the stand-in browser never ran: %v", err)
	}
	args := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	want := []string{
		"--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
		"--disable-background-networking",
		"--user-data-dir=*", // a fresh t.TempDir()
		"--window-size=1280,900",
		// chromedp's own: the pipe it talks over, and a blank first page.
		"--remote-debugging-pipe", "about:blank",
	}
	if len(args) != len(want) {
		t.Fatalf("the browser got %q, want %q", args, want)
	}
	for i, w := range want {
		if prefix, ok := strings.CutSuffix(w, "*"); ok {
			if dir := strings.TrimPrefix(args[i], prefix); !strings.HasPrefix(args[i], prefix) || dir == "" {
				t.Errorf("argument %d is %q, want %s<dir>", i, args[i], prefix)
			}
			continue
		}
		if args[i] != w {
			t.Errorf("argument %d is %q, want %q", i, args[i], w)
		}
	}
}

func TestFind(t *testing.T) {
	bin := t.TempDir()
	for _, name := range []string{"chromium-browser", "google-chrome"} {
		if err := os.WriteFile(filepath.Join(bin, name), []byte("#!/bin/sh\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	notExec := filepath.Join(bin, "not-executable")
	if err := os.WriteFile(notExec, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		label, chromium, path string
		want, wantErr         string
	}{
		{label: "CHROMIUM wins over PATH", chromium: filepath.Join(bin, "google-chrome"), path: bin,
			want: filepath.Join(bin, "google-chrome")},
		{label: "PATH names in order", path: bin, want: filepath.Join(bin, "chromium-browser")},
		{label: "CHROMIUM that cannot run", chromium: notExec, path: bin, wantErr: "CHROMIUM=" + notExec},
		{label: "nothing found", path: t.TempDir(), wantErr: "apt-get install chromium"},
	}
	for _, tt := range tests {
		t.Run(tt.label, func(t *testing.T) {
			t.Setenv("CHROMIUM", tt.chromium)
			t.Setenv("PATH", tt.path)
			got, err := find()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("find() = %q, %v; want an error saying %q", got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("find() = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}
