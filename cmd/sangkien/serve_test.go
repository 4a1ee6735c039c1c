package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
)

func TestServe(t *testing.T) {
	tests := []struct {
		name      string
		env       func(testEnv) testEnv
		wantReady int
	}{
		{"real redis", func(e testEnv) testEnv { return e }, http.StatusOK},
		{"embedded redis", func(e testEnv) testEnv { return e.set("REDIS_URL", "") }, http.StatusOK},
		// Nothing listens on port 1: the gateway runs, but is not ready.
		{"redis down", func(e testEnv) testEnv { return e.set("REDIS_URL", "redis://127.0.0.1:1/0") }, http.StatusServiceUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			addr, done := startServe(t, ctx, tt.env(newTestEnv(t)))

			checks := []struct {
				path       string
				wantStatus int
			}{
				{"/healthz", http.StatusOK},
				{"/readyz", tt.wantReady},
				{"/nowhere", http.StatusNotFound},
			}
			for _, c := range checks {
				resp, err := http.Get("http://" + addr + c.path)
				if err != nil {
					t.Fatalf("GET %s: %v", c.path, err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != c.wantStatus {
					t.Errorf("GET %s = %d %q, want %d", c.path, resp.StatusCode, body, c.wantStatus)
				}
				if c.path == "/healthz" && strings.TrimSpace(string(body)) != "ok" {
					t.Errorf("GET /healthz body = %q, want ok", body)
				}
			}

			// Docker's HEALTHCHECK: `sangkien healthcheck` with the gateway's environment.
			env := tt.env(newTestEnv(t)).set("HTTP_ADDR", addr)
			if err := run(ctx, []string{"healthcheck"}, env.get, nil, io.Discard, io.Discard); (err == nil) != (tt.wantReady == http.StatusOK) {
				t.Errorf("healthcheck = %v, with /readyz answering %d", err, tt.wantReady)
			}

			cancel()
			if err := <-done; err != nil {
				t.Errorf("serve after cancel: %v", err)
			}
			if _, err := http.Get("http://" + addr + "/healthz"); err == nil {
				t.Error("server still answers after it stopped")
			}
		})
	}
}

// listenLog finds the bound address in serve's log, JSON (serve's default) or text.
var listenLog = regexp.MustCompile(`"msg":"http server listening".*"addr":"([^"]+)"|msg="http server listening".* addr=(\S+)`)

// startServe runs `sangkien serve` and returns the address it bound (learned from its
// log, as an operator would) and the channel its result arrives on.
func startServe(t testing.TB, ctx context.Context, env testEnv) (string, <-chan error) {
	t.Helper()
	logR, logW := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := run(ctx, []string{"serve"}, env.get, strings.NewReader(""), io.Discard, logW)
		logW.CloseWithError(io.EOF)
		done <- err
	}()
	sc := bufio.NewScanner(logR)
	for sc.Scan() {
		if m := listenLog.FindStringSubmatch(sc.Text()); m != nil {
			go func() { _, _ = io.Copy(io.Discard, logR) }() // keep the log flowing
			return m[1] + m[2], done
		}
	}
	t.Fatalf("serve ended before it listened: %v", <-done)
	return "", nil
}
