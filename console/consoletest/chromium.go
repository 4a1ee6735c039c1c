// Package consoletest gives tests of the operator console a real browser: Debian's
// Chromium, headless, driven through chromedp.
//
// The console is server-rendered HTML with a little script (forms that post, a page that
// follows server-sent events), so its tests drive the pages as a staff member would:
// type, click, wait for the text. Screenshot writes the PNGs of the documentation.
//
// A missing browser fails the test, never skips it: a console whose pages were never
// opened must not pass. CHROMIUM names the binary; without it the first of chromium,
// chromium-browser and google-chrome on PATH is used.
package consoletest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// Timeout bounds the life of each browser, so that a page that never shows what a test
// waits for fails the test instead of hanging it until go test's own deadline.
const Timeout = 60 * time.Second

// WindowWidth and WindowHeight are the size of the browser's window: wide enough for the
// console's tables, and the width of the screenshots in the documentation.
const (
	WindowWidth  = 1280
	WindowHeight = 900
)

// names are the programs looked for on PATH when CHROMIUM is empty, in order.
var names = []string{"chromium", "chromium-browser", "google-chrome"}

// Browser starts a headless Chromium with a fresh profile and returns a chromedp context
// on its first tab. The browser is stopped when the test ends, or after Timeout.
func Browser(t testing.TB) context.Context {
	t.Helper()
	path, err := find()
	if err != nil {
		t.Fatal(err)
	}
	// Made before the browser's cleanup is registered, so removed after the browser
	// stopped writing to it.
	profile := t.TempDir()

	bounded, cancelTimeout := context.WithTimeout(context.Background(), Timeout)
	alloc, cancelAlloc := chromedp.NewExecAllocator(bounded, options(path, profile)...)
	ctx, cancelBrowser := chromedp.NewContext(alloc, chromedp.WithErrorf(t.Logf))
	t.Cleanup(func() {
		cancelBrowser()
		cancelAlloc() // waits for the process to exit
		cancelTimeout()
	})
	// The first Do starts the process, so a browser that cannot start fails here, with
	// its path in the message, and not in the test's first action.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("consoletest: starting %s: %v", path, err)
	}
	return ctx
}

// options are the allocator's, and only these: chromedp's defaults add flags that hide
// what a staff member's browser would show (scrollbars) and that the console does not need.
func options(path, profile string) []chromedp.ExecAllocatorOption {
	return []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true), // CI runs as root, where the sandbox cannot start
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(WindowWidth, WindowHeight),
	}
}

// find returns the browser named by CHROMIUM, or else the first of names on PATH.
func find() (string, error) {
	if p := os.Getenv("CHROMIUM"); p != "" {
		found, err := exec.LookPath(p)
		if err != nil {
			return "", fmt.Errorf("consoletest: CHROMIUM=%s is not a program that can run: %w", p, err)
		}
		return found, nil
	}
	for _, name := range names {
		if found, err := exec.LookPath(name); err == nil {
			return found, nil
		}
	}
	return "", errors.New("consoletest: no browser found: neither CHROMIUM nor any of " +
		strings.Join(names, ", ") + " on PATH; install chromium (apt-get install chromium) " +
		"or set CHROMIUM to the path of a Chromium or Chrome binary")
}

// Screenshot writes a PNG of the whole page to path, making its directory when missing.
// The page is laid out for the moment in a window WindowWidth wide and as tall as the
// page, so that the image is WindowWidth wide with no scrollbar, whatever the page's
// height; the window is given back its size afterwards.
func Screenshot(path string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		png, err := fullPage(ctx, t)
		if err != nil {
			return fmt.Errorf("screenshot %s: %w", path, err)
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return fmt.Errorf("screenshot %s: %w", path, err)
		}
		if err := os.WriteFile(path, png, 0o644); err != nil {
			return fmt.Errorf("screenshot %s: %w", path, err)
		}
		return nil
	})
}

// fullPage captures the page as a PNG, laid out WindowWidth wide and as tall as it is.
// Scrollbars are hidden while it does, so that a page which grows after it was measured
// (an image that loads, an event that adds a line) cannot take a scrollbar's width off
// the picture; the height is measured again after the viewport is set, until it holds.
func fullPage(ctx context.Context, t *chromedp.Target) ([]byte, error) {
	if _, err := cdp.Call(ctx, t, emulation.SetScrollbarsHidden, emulation.SetScrollbarsHiddenParams{Hidden: true}); err != nil {
		return nil, err
	}
	var height int64 = -1
	for range 3 {
		h, err := chromedp.Evaluate[int64](`document.documentElement.scrollHeight`)(ctx, t)
		if err != nil {
			return nil, err
		}
		if h == height {
			break
		}
		height = h
		if _, err := chromedp.EmulateViewport(WindowWidth, max(height, WindowHeight))(ctx, t); err != nil {
			return nil, err
		}
	}
	png, err := chromedp.FullScreenshot(100)(ctx, t) // 100: PNG, not JPEG
	if _, clearErr := cdp.Call(ctx, t, emulation.ClearDeviceMetricsOverride, cdp.Empty{}); err == nil {
		err = clearErr
	}
	if _, clearErr := cdp.Call(ctx, t, emulation.SetScrollbarsHidden, emulation.SetScrollbarsHiddenParams{Hidden: false}); err == nil {
		err = clearErr
	}
	return png, err
}

// Text reads the visible text of the first element matching the CSS selector in one
// step inside the page. chromedp.Text finds the node first and reads it after, so on a
// live page, whose parts are replaced as events arrive, the node it found may be gone
// by the time it reads; this one cannot miss that way. It fails when nothing matches.
func Text(selector string) chromedp.Action[string] {
	q := strconv.Quote(selector)
	return chromedp.Evaluate[string](`(() => { const e = document.querySelector(` + q + `);
		if (!e) { throw new Error("nothing matches " + ` + q + `); } return e.innerText; })()`)
}

// Click clicks the first element matching the CSS selector in one step inside the page,
// for the same reason as Text: chromedp.Click finds the node first and clicks it after,
// and a live page may have replaced it in between ("Could not find node with given
// id"). It fails when nothing matches.
func Click(selector string) chromedp.Action[chromedp.Void] {
	q := strconv.Quote(selector)
	click := chromedp.Evaluate[bool](`(() => { const e = document.querySelector(` + q + `);
		if (!e) { throw new Error("nothing matches " + ` + q + `); } e.click(); return true; })()`)
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := click(ctx, t)
		return err
	})
}
