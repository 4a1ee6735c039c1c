package health_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sangkien/sangkien/bot"
	"github.com/sangkien/sangkien/bot/bottest"
	"github.com/sangkien/sangkien/bot/redisstore"
	"github.com/sangkien/sangkien/bot/redisstore/redistest"
	"github.com/sangkien/sangkien/cmdline"
	"github.com/sangkien/sangkien/envvar"
	"github.com/sangkien/sangkien/health"
)

// down is a state that does not answer, as Redis stopped.
type down struct{}

func (down) Ping(context.Context) error {
	return errors.New("dial tcp 127.0.0.1:6379: connection refused")
}

func (down) OldestReply(context.Context) (time.Duration, bot.Channel, error) {
	return 0, "", errors.New("dial tcp 127.0.0.1:6379: connection refused")
}

// backlog is a real store whose Zalo replies have waited: the oldest, by Redis's
// clock, ago before now, and a sender beats for the channel.
func backlog(t *testing.T, ago time.Duration) *redisstore.Store {
	t.Helper()
	c := redistest.Client(t)
	prefix := redistest.Prefix(t)
	st := redisstore.New(c, redisstore.Options{Prefix: prefix})
	ctx := context.Background()
	now, err := c.Time(ctx).Result()
	if err != nil {
		t.Fatal(err)
	}
	id := now.Add(-ago).UnixMilli()
	stream := st.OutboundStream(4, bot.Zalo)
	if err := c.XAdd(ctx, &redis.XAddArgs{Stream: stream, ID: strconv.FormatInt(id, 10) + "-0", Values: []any{"m", "{}"}}).Err(); err != nil {
		t.Fatal(err)
	}
	if err := c.ZAdd(ctx, prefix+":members:out:zalo", redis.Z{Score: float64(now.UnixMilli()), Member: "gw-1"}).Err(); err != nil {
		t.Fatal(err)
	}
	return st
}

func TestProbes(t *testing.T) {
	live := redisstore.New(redistest.Client(t), redisstore.Options{Prefix: redistest.Prefix(t)})
	tests := []struct {
		name       string
		state      health.State
		path       string
		wantStatus int
		wantBody   string
		wantLog    string
	}{
		{"alive", down{}, "/healthz", 200, "ok\n", ""},
		{"ready", live, "/readyz", 200, "ok\n", ""},
		{"ready with replies waiting a little", backlog(t, 20*time.Second), "/readyz", 200, "ok\n", ""},
		{"not ready without redis", down{}, "/readyz", 503, "redis unavailable\n", "not ready: redis does not answer"},
		{"not ready while replies wait too long", backlog(t, 2*time.Minute), "/readyz", 503,
			"replies waiting too long: zalo for 2m0s (READY_MAX_QUEUE_AGE=1m0s)\n", `not ready: a reply has waited too long" component=http channel=zalo waited=2m0s max=1m0s`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			logs := &bottest.LogBuffer{}
			mux := http.NewServeMux()
			health.Mount(mux, tt.state, health.Settings{MaxQueueAge: time.Minute}, logs.Logger())
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

func TestReadSettings(t *testing.T) {
	tests := []struct {
		value   string
		want    time.Duration
		wantErr bool
	}{
		{"", time.Minute, false},
		{"90s", 90 * time.Second, false},
		{"0s", 0, true},
		{"soon", 0, true},
	}
	for _, tt := range tests {
		r := envvar.NewReader(func(k string) string {
			if k == "READY_MAX_QUEUE_AGE" {
				return tt.value
			}
			return ""
		}, health.EnvVars)
		got := health.ReadSettings(r)
		if (r.Err() != nil) != tt.wantErr || !tt.wantErr && got.MaxQueueAge != tt.want {
			t.Errorf("READY_MAX_QUEUE_AGE=%q: %v, %v; want %v (error %v)", tt.value, got.MaxQueueAge, r.Err(), tt.want, tt.wantErr)
		}
		if tt.wantErr && !strings.Contains(r.Err().Error(), "READY_MAX_QUEUE_AGE") {
			t.Errorf("error does not name the variable: %v", r.Err())
		}
	}
}

// TestCommand: `sangkien healthcheck` asks /readyz on HTTP_ADDR, reached on the
// loopback when it names every interface, and fails on anything but a 200 in time.
func TestCommand(t *testing.T) {
	var status atomic.Int64 // the test's answer; 0: none
	hang := make(chan struct{})
	defer close(hang)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		code := int(status.Load())
		if code == 0 {
			select { // never answers in time
			case <-hang:
			case <-r.Context().Done():
			}
			return
		}
		w.WriteHeader(code)
		_, _ = io.WriteString(w, http.StatusText(code)+"\n")
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	vars := []envvar.Var{{Name: "HTTP_ADDR", Default: ":1"}}

	tests := []struct {
		name    string
		addr    string
		status  int // 0: no answer
		wantErr string
	}{
		{"ready", "127.0.0.1:" + port, 200, ""},
		{"ready, listening on every interface", ":" + port, 200, ""},
		{"ready, 0.0.0.0", "0.0.0.0:" + port, 200, ""},
		{"not ready", ":" + port, 503, "503 Service Unavailable: Service Unavailable"},
		{"no answer in time", ":" + port, 0, "context deadline exceeded"},
		{"nothing listening (the default :1)", "", 200, "connection refused"},
		{"not an address", "localhost", 200, "HTTP_ADDR"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status.Store(int64(tt.status))
			var out bytes.Buffer
			env := func(k string) string {
				if k == "HTTP_ADDR" {
					return tt.addr
				}
				return ""
			}
			err := health.Command(context.Background(), nil, cmdline.Stdio{Out: &out, Err: io.Discard}, env, vars)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("healthcheck: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("healthcheck = %v, want an error with %q", err, tt.wantErr)
			case tt.wantErr == "" && out.String() != "OK\n":
				t.Errorf("healthcheck printed %q", out.String())
			}
		})
	}
}
