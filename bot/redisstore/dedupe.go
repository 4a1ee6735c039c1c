package redisstore

// This file says how the store remembers the events it handled, so that a redelivered
// webhook is not run twice (Begin's duplicate).
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
// sets: while old and new processes share a Redis, the new ones run with
// Options.LegacyFormat (upgrade.go), which writes the old marker too.
