package redisstore

import (
	"fmt"
	"strings"

	"github.com/sangkien/sangkien/envvar"
)

// This file says how the store remembers the events it handled, so that a redelivered
// webhook is not run twice (Begin's duplicate), and reads its one setting.
//
// Each conversation has one sorted set, <p>:{sNN}:seen:<conv>: its members are the
// event ids handled, each scored by when (Redis's clock, unix seconds: a small integer
// in a listpack). Commit adds the event,
// drops the members older than DedupeTTL and sets the key's TTL to DedupeTTL, in the
// script that writes the event's change: an event is marked handled exactly when its
// effects are written. Begin refuses an event that is a member, so an event is refused
// for at least DedupeTTL after it was handled (and until the next commit trims it). A
// conversation's events of a day stay few, so the set stays a small listpack: about
// 12 bytes an event, where a key an event cost 90.
//
// Versions before this one wrote a string key an event, <p>:{sNN}:seen:<conv>:<event>.
// Begin still refuses an event with such a marker, so an event an old process handled
// is not run again by a new one during a rolling upgrade; the markers expire by
// themselves within DedupeTTL. The other way round, an old process does not read the
// sets: while old and new processes share a Redis, run the new ones with
// REDIS_DEDUPE_LEGACY=on, which writes the old marker too, and turn it off once no old
// process is left.

// EnvVars are the store's variables, in the order help shows them.
var EnvVars = []envvar.Var{
	{Name: "REDIS_DEDUPE_LEGACY", Default: "off", Help: "on: also write the handled-event markers versions before " +
		"the dedupe sets read (a key an event), for a rolling upgrade from such a version; off once none is left"},
}

// Settings are what the gateway reads of the store from its environment.
type Settings struct {
	// LegacyDedupe is Options.LegacyDedupe (REDIS_DEDUPE_LEGACY).
	LegacyDedupe bool
}

// ReadSettings reads the variables of EnvVars; errors go to r.
func ReadSettings(r *envvar.Reader) Settings {
	var s Settings
	switch v := strings.ToLower(r.Get("REDIS_DEDUPE_LEGACY")); v {
	case "on":
		s.LegacyDedupe = true
	case "off":
	default:
		r.Fail(fmt.Errorf("REDIS_DEDUPE_LEGACY=%q: want on or off", v))
	}
	return s
}
