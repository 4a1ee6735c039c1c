package redisstore

import (
	"log/slog"
	"testing"
)

// Without a URL, Open starts an embedded server that answers, and Close stops it.
func TestOpenEmbedded(t *testing.T) {
	c, err := Open("", slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if !c.Embedded() {
		t.Error("Embedded() = false without a URL")
	}
	if err := c.Client.Ping(t.Context()).Err(); err != nil {
		t.Errorf("ping: %v", err)
	}
	if err := c.Close(); err != nil {
		t.Errorf("close: %v", err)
	}
}
