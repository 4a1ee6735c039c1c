package redisstore

import (
	"hash/crc32"

	"github.com/sangkien/sangkien/bot"
)

// This file says how the store remembers the events it handled, so that a redelivered
// webhook is not run twice (Begin's duplicate).
//
// Each conversation has one sorted set, <p>:{sNN}:seen:<conv>: its members are the
// event ids handled, each scored by when (the gateway's clock, unix seconds: a small
// integer in a listpack). Commit adds the event and sets the key's TTL to DedupeTTL,
// in the script that writes the event's change: an event is marked handled exactly when
// its effects are written. Begin refuses an event that is a member, so an event is
// refused for at least DedupeTTL after it was handled (and until a commit trims it).
// A commit drops the members older than DedupeTTL when dedupeTrim says so: the first of
// a conversation's session and one event in dedupeTrimEvery after, not every event, for
// the call it costs Redis. The scores are each gateway's clock (Redis's own before
// 2026-12-07): a gateway whose clock runs ahead trims that much early, which NTP keeps
// to far less than a second of DedupeTTL's 24 hours. A conversation's events of a day
// stay few, so the set stays a small listpack: about 12 bytes an event, where a key an
// event cost 90.
//
// Versions before this one wrote a string key an event, <p>:{sNN}:seen:<conv>:<event>.
// Begin still refuses an event with such a marker, so an event an old process handled
// is not run again by a new one during a rolling upgrade; the markers expire by
// themselves within DedupeTTL. The other way round, an old process does not read the
// sets: while old and new processes share a Redis, the new ones run with
// Options.LegacyFormat (upgrade.go), which writes the old marker too.

// dedupeTrimEvery is how many of a conversation's events, one in, trim its dedupe set
// besides the first of a session.
const dedupeTrimEvery = 8

// dedupeTrim is the commit script's "1" to drop the dedupe set's old members: for a new
// session (the conversation may come back after long) and for one event id in
// dedupeTrimEvery, picked by its hash so a redelivery decides the same.
func dedupeTrim(lease *bot.Lease) string {
	if lease.Session == nil || lease.Session.New || crc32.ChecksumIEEE([]byte(lease.EventID))%dedupeTrimEvery == 0 {
		return "1"
	}
	return "0"
}
