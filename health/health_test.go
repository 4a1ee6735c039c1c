package health_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/sangkien/sangkien/bot/bottest"
	"github.com/sangkien/sangkien/bot/redisstore"
	"github.com/sangkien/sangkien/bot/redisstore/redistest"
	"github.com/sangkien/sangkien/health"
)

// down is a state that does not answer, as Redis stopped.
type down struct{}

func (down) Ping(context.Context) error {
	return errors.New("dial tcp 127.0.0.1:6379: connection refused")
}

func TestProbes(t *testing.T) {
	live := redisstore.New(redistest.Client(t), redisstore.Options{Prefix: redistest.Prefix(t)})
	tests := []struct {
		name       string
		state      health.Pinger
		path       string
		wantStatus int
		wantBody   string
		wantLog    string
	}{
		{"alive", down{}, "/healthz", 200, "ok\n", ""},
		{"ready", live, "/readyz", 200, "ok\n", ""},
		{"not ready without redis", down{}, "/readyz", 503, "redis unavailable\n", "not ready: redis does not answer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			logs := &bottest.LogBuffer{}
			mux := http.NewServeMux()
			health.Mount(mux, tt.state, logs.Logger())
			srv := httptest.NewServer(mux)
			defer srv.Close()
			resp, err := http.Get(srv.URL + tt.path)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.wantStatus || string(body) != tt.wantBody {
				t.Errorf("GET %s = %d %q, want %d %q", tt.path, resp.StatusCode, body, tt.wantStatus, tt.wantBody)
			}
			if tt.wantLog != "" && !strings.Contains(logs.String(), tt.wantLog) {
				t.Errorf("log lacks %q:\n%s", tt.wantLog, logs.String())
			}
			if resp, err := http.Post(srv.URL+tt.path, "text/plain", nil); err == nil {
				resp.Body.Close()
				if resp.StatusCode != http.StatusMethodNotAllowed {
					t.Errorf("POST %s = %d, want 405", tt.path, resp.StatusCode)
				}
			}
		})
	}
}
