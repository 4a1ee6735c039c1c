package logging_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"

	json "github.com/go-json-experiment/json/v1"

	"github.com/sangkien/sangkien/envvar"
	"github.com/sangkien/sangkien/logging"
)

func TestReadSettings(t *testing.T) {
	tests := []struct {
		name      string
		env       map[string]string
		want      logging.Settings
		wantError string
	}{
		{"defaults", nil, logging.Settings{Level: slog.LevelInfo}, ""},
		{"json at debug", map[string]string{"LOG_FORMAT": "json", "LOG_LEVEL": "debug"}, logging.Settings{Level: slog.LevelDebug, Format: "json"}, ""},
		{"text", map[string]string{"LOG_FORMAT": "text"}, logging.Settings{Format: "text"}, ""},
		{"unknown format", map[string]string{"LOG_FORMAT": "xml"}, logging.Settings{}, "LOG_FORMAT"},
		{"unknown level", map[string]string{"LOG_LEVEL": "loud"}, logging.Settings{}, "LOG_LEVEL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := envvar.NewReader(func(k string) string { return tt.env[k] }, logging.EnvVars)
			got := logging.ReadSettings(r)
			if tt.wantError != "" {
				if err := r.Err(); err == nil || !strings.Contains(err.Error(), tt.wantError) {
					t.Errorf("Err() = %v, want one naming %s", err, tt.wantError)
				}
				return
			}
			if r.Err() != nil || got != tt.want {
				t.Errorf("ReadSettings = %+v, %v; want %+v", got, r.Err(), tt.want)
			}
		})
	}
}

// TestNew: the format given, else the command's fallback; the level kept; the request
// id of the line's context added to the line, also through With.
func TestNew(t *testing.T) {
	ctx := logging.WithRequestID(context.Background(), "req-42")
	tests := []struct {
		name     string
		settings logging.Settings
		fallback string
		want     string // the line logged with ctx
	}{
		{"json by fallback", logging.Settings{}, logging.JSON,
			`{"level":"INFO","msg":"turn","component":"engine","event":"7","request_id":"req-42"}`},
		{"text by fallback", logging.Settings{}, logging.Text, `level=INFO msg=turn component=engine event=7 request_id=req-42`},
		{"text by setting", logging.Settings{Format: logging.Text}, logging.JSON, `level=INFO msg=turn component=engine event=7 request_id=req-42`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			log := tt.settings.New(&buf, tt.fallback).With("component", "engine")
			log.InfoContext(ctx, "turn", "event", "7")
			log.Info("no context")
			log.DebugContext(ctx, "below the level")
			lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
			if len(lines) != 2 {
				t.Fatalf("%d lines, want 2:\n%s", len(lines), buf.String())
			}
			if got := dropTime(t, lines[0]); got != tt.want {
				t.Errorf("line = %s\nwant   %s", got, tt.want)
			}
			if strings.Contains(lines[1], "request_id") {
				t.Errorf("a line without a request's context names one: %s", lines[1])
			}
		})
	}
}

// dropTime returns a line without its time, which every line starts with.
func dropTime(t *testing.T, line string) string {
	t.Helper()
	if strings.HasPrefix(line, "{") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("not JSON: %s", line)
		}
		_, rest, _ := strings.Cut(line, `,`)
		return "{" + rest
	}
	_, rest, _ := strings.Cut(line, " ")
	return rest
}

func TestRequestIDOfAPlainContext(t *testing.T) {
	if id := logging.RequestID(context.Background()); id != "" {
		t.Errorf("RequestID of a plain context = %q", id)
	}
}
