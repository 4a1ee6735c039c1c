// Package logging builds the gateway's logger: JSON or text lines at a level
// (LOG_FORMAT, LOG_LEVEL), each line logged with a request's context carrying that
// request's id, so that an operator follows one webhook request through the channel,
// the engine and the flows.
package logging

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"

	"github.com/sangkien/sangkien/envvar"
)

// The formats of LOG_FORMAT.
const (
	JSON = "json" // one JSON object a line, for a log collector
	Text = "text" // key=value lines, for a person at a terminal
)

// EnvVars are the variables Settings are read from.
var EnvVars = []envvar.Var{
	{Name: "LOG_LEVEL", Default: "info", Help: "debug, info, warn or error (chat: warn unless set)"},
	{Name: "LOG_FORMAT", Help: "json or text; empty: json in serve, text in chat and the other commands"},
}

// Settings are the logger's level and format. An empty Format leaves it to the
// command (New's fallback).
type Settings struct {
	Level  slog.Level
	Format string
}

// ReadSettings reads LOG_LEVEL and LOG_FORMAT; a value it cannot use is recorded in r.
func ReadSettings(r *envvar.Reader) Settings {
	var s Settings
	if level := r.Get("LOG_LEVEL"); s.Level.UnmarshalText([]byte(level)) != nil {
		r.Fail(fmt.Errorf("LOG_LEVEL=%q: want debug, info, warn or error", level))
	}
	switch s.Format = r.Get("LOG_FORMAT"); s.Format {
	case "", JSON, Text:
	default:
		r.Fail(fmt.Errorf("LOG_FORMAT=%q: want json or text", s.Format))
	}
	return s
}

// New returns a logger writing to w at s's level, in s's format or, when that is empty,
// in fallback (JSON or Text). Every line logged with a context that carries a request
// id (WithRequestID) names it as request_id.
func (s Settings) New(w io.Writer, fallback string) *slog.Logger {
	opts := &slog.HandlerOptions{Level: s.Level}
	format := s.Format
	if format == "" {
		format = fallback
	}
	var h slog.Handler = slog.NewTextHandler(w, opts)
	if format == JSON {
		h = slog.NewJSONHandler(w, opts)
	}
	return slog.New(requestHandler{h})
}

// requestKey is the context key of the request id.
type requestKey struct{}

// WithRequestID returns ctx carrying a request's id.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestKey{}, id)
}

// NewRequestID is a random request id: 16 hex digits, unique enough to find one request
// in a day's logs. Webhook requests get one when the proxy gave none; an update fetched
// by polling and an event run again from the inbox get one each too.
func NewRequestID() string {
	var b [8]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return hex.EncodeToString(b[:])
}

// RequestID is the request id ctx carries, or "".
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestKey{}).(string)
	return id
}

// requestHandler adds the request id of a line's context to the line.
type requestHandler struct{ slog.Handler }

func (h requestHandler) Handle(ctx context.Context, r slog.Record) error {
	if id := RequestID(ctx); id != "" {
		r.AddAttrs(slog.String("request_id", id))
	}
	return h.Handler.Handle(ctx, r)
}

func (h requestHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return requestHandler{h.Handler.WithAttrs(attrs)}
}

func (h requestHandler) WithGroup(name string) slog.Handler {
	return requestHandler{h.Handler.WithGroup(name)}
}
