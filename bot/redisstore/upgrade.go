package redisstore

import (
	"fmt"
	"strings"

	"github.com/sangkien/sangkien/envvar"
)

// This file reads the store's one setting, for rolling upgrades. This version reads
// everything versions before it wrote (sessions as plain JSON, transcript lines as
// bot.TranscriptEntry's JSON, a dedupe key per event), but they read none of its
// compact forms (compact.go, transcript.go, dedupe.go): an old process would fail on a
// session a new one wrote, show no transcript in its console, and run again an event
// a new one handled. While old and new processes share a Redis, the new ones run with
// Options.LegacyFormat, writing the old forms; once every process is new, they restart
// without it, and each conversation takes the compact forms at its next event.

// EnvVars are the store's variables, in the order help shows them.
var EnvVars = []envvar.Var{
	{Name: "REDIS_LEGACY_FORMAT", Default: "off", Help: "on: write sessions, transcript lines and handled-event markers " +
		"as versions before the compact forms did (they read only those), for a rolling upgrade from such a version; " +
		"off once none is left"},
}

// Settings are what the gateway reads of the store from its environment.
type Settings struct {
	// LegacyFormat is Options.LegacyFormat (REDIS_LEGACY_FORMAT).
	LegacyFormat bool
}

// ReadSettings reads the variables of EnvVars; errors go to r.
func ReadSettings(r *envvar.Reader) Settings {
	var s Settings
	switch v := strings.ToLower(r.Get("REDIS_LEGACY_FORMAT")); v {
	case "on":
		s.LegacyFormat = true
	case "off":
	default:
		r.Fail(fmt.Errorf("REDIS_LEGACY_FORMAT=%q: want on or off", v))
	}
	return s
}
