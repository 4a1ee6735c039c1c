package redisstore

import (
	"fmt"
	"hash/crc32"

	"github.com/sangkien/sangkien/bot"
)

// Shards is the number of hash-tag shards. It must never change (see the package doc).
const Shards = 32

// ShardOf returns the shard that holds the conversation's keys.
func ShardOf(conv bot.ConversationRef) int { return shardOfKey(conv.Key()) }

// shardOfKey is ShardOf of the conversation whose key (bot.ConversationRef.Key) is k.
func shardOfKey(k string) int { return int(crc32.ChecksumIEEE([]byte(k)) % Shards) }

// tags are the shards' hash tags, written once: every event names several keys.
var tags = func() (t [Shards]string) {
	for i := range t {
		t[i] = fmt.Sprintf("{s%02d}", i)
	}
	return t
}()

// tag is the hash tag of a shard, "{s07}".
func tag(shard int) string { return tags[shard] }

// convKeys are the keys one event touches, all in the conversation's shard.
type convKeys struct {
	prof, state, lock, tr, out, outbox string
	card, dlv                          string
	seen                               string // the events handled (a zset, dedupe.go)
	base                               string // "<p>:{sNN}:" for the shard's other keys
	conv                               string
}

func (s *Store) keys(conv bot.ConversationRef) convKeys {
	k := conv.Key()
	base := s.prefix + ":" + tag(shardOfKey(k)) + ":"
	return convKeys{
		prof:   base + "prof:" + k,
		state:  base + "state:" + k,
		lock:   base + "lock:" + k,
		tr:     base + "tr:" + k,
		out:    base + "out:" + string(conv.Channel),
		outbox: base + s.outboxName(),
		card:   base + "card:" + k,
		dlv:    base + "dlv:" + k,
		seen:   base + "seen:" + k,
		base:   base,
		conv:   k,
	}
}

// desk names one of the shard's inbox indexes ("waiting", "of:<email>", desk.go).
func (k convKeys) desk(name string) string { return k.base + "desk:" + name }

// audience names one of the shard's audience indexes (audience.go).
func (k convKeys) audience(ch bot.Channel, ix bot.AudienceIndex) string {
	return k.base + audienceName(ch, ix.Lang, ix.Name)
}

// legacySeen names the marker of one handled event as versions before the dedupe set
// wrote it (a string key an event, dedupe.go).
func (k convKeys) legacySeen(eventID string) string { return k.seen + ":" + eventID }

// OutboundStream names the delivery queue of one channel in one shard; a channel's
// sender reads it for every shard in 0..Shards-1. Each entry's field "m" is a JSON
// KeyPrefix is the prefix of every key of the store (Options.Prefix).
func (s *Store) KeyPrefix() string { return s.prefix }

// bot.Outbound.
func (s *Store) OutboundStream(shard int, ch bot.Channel) string {
	return s.prefix + ":" + tag(shard) + ":out:" + string(ch)
}

// BulkStream names the bulk lane of one channel in one shard (QueueBulk fills it), in
// the same shape as OutboundStream.
func (s *Store) BulkStream(shard int, ch bot.Channel) string {
	return s.prefix + ":" + tag(shard) + ":bulk:" + string(ch)
}

// outboxStream names the outbox of one shard.
func (s *Store) outboxStream(shard int) string {
	return s.prefix + ":" + tag(shard) + ":" + s.outboxName()
}

// outboxName is "outbox", or "outbox:<name>" for a store with an outbox of its own.
func (s *Store) outboxName() string {
	if s.o.Outbox == "" {
		return "outbox"
	}
	return "outbox:" + s.o.Outbox
}

func (s *Store) refseqKey(prefix string, year int) string {
	return fmt.Sprintf("%s:refseq:%s:%d", s.prefix, prefix, year)
}
