package redisstore

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// WebReplies keeps what the bot said to each web chat conversation until the browser
// reads it (integrations/webchat.Replies): a stream per conversation, capped and
// expiring, read from any process by the entry id the browser last saw. The entries
// are opaque here: integrations/webchat writes them as JSON.
type WebReplies struct {
	c      redis.UniversalClient
	prefix string
	max    int64
	ttl    time.Duration
}

// WebReplies returns the store's web chat reply streams; each keeps its last max
// entries and lives ttl after its last one.
func (s *Store) WebReplies(max int, ttl time.Duration) *WebReplies {
	return &WebReplies{c: s.c, prefix: s.prefix, max: int64(max), ttl: ttl}
}

// The stream and the ids of the replies appended to it share the conversation's hash tag.
func (w *WebReplies) keys(conv string) []string {
	k := webKey(w.prefix, conv)
	return []string{k + ":replies", k + ":sent"}
}

// appendScript appends ARGV[2] unless reply id ARGV[1] was appended already (the
// delivery queue sends a reply again when it cannot tell it was sent), capping the
// stream at ARGV[3] entries and keeping both keys ARGV[4] ms.
var appendScript = redis.NewScript(`
if redis.call('SADD', KEYS[2], ARGV[1]) == 0 then
  return ''
end
local id = redis.call('XADD', KEYS[1], 'MAXLEN', ARGV[3], '*', 'm', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
redis.call('PEXPIRE', KEYS[2], ARGV[4])
return id
`)

// Append adds entry to conv's stream under reply id, once: an id appended before is
// not appended again. It returns the entry's stream id ("" for a repeat).
func (w *WebReplies) Append(ctx context.Context, conv, id string, entry []byte) (string, error) {
	got, err := appendScript.Run(ctx, w.c, w.keys(conv), id, entry, w.max, millis(w.ttl)).Text()
	if err != nil {
		return "", fmt.Errorf("web reply: %w", err)
	}
	return got, nil
}

// After returns the ids and entries of up to n entries of conv's stream that came
// after entry id after ("" or "0": from the first), oldest first. It does not block:
// the caller asks again.
func (w *WebReplies) After(ctx context.Context, conv, after string, n int) (ids []string, entries [][]byte, err error) {
	start := "-"
	if after != "" && after != "0" {
		start = "(" + after
	}
	msgs, err := w.c.XRangeN(ctx, w.keys(conv)[0], start, "+", int64(n)).Result()
	if err != nil {
		return nil, nil, fmt.Errorf("web replies: %w", err)
	}
	for _, m := range msgs {
		s, _ := m.Values["m"].(string)
		ids, entries = append(ids, m.ID), append(entries, []byte(s))
	}
	return ids, entries, nil
}

// WebFiles keeps the files citizens send from the web chat (integrations/webchat.Files),
// one hash a file under the conversation's hash tag: its bytes, type and name, for the
// flows to list and the media proxy to serve to the intake.
type WebFiles struct {
	c      redis.UniversalClient
	prefix string
}

// WebFiles returns the store's web chat files.
func (s *Store) WebFiles() *WebFiles { return &WebFiles{c: s.c, prefix: s.prefix} }

func (f *WebFiles) key(conv, id string) string { return webKey(f.prefix, conv) + ":file:" + id }

// webKey is the start of a web chat conversation's keys, its hash tag the conversation.
func webKey(prefix, conv string) string { return prefix + ":web:{" + conv + "}" }

// Put keeps a file for ttl, and its id in the conversation's list of files (kept as
// long), so that erasing the conversation finds them.
func (f *WebFiles) Put(ctx context.Context, conv, id string, data []byte, mime, name string, ttl time.Duration) error {
	k, list := f.key(conv, id), webKey(f.prefix, conv)+":files"
	_, err := f.c.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.HSet(ctx, k, "d", data, "t", mime, "n", name)
		p.PExpire(ctx, k, ttl)
		p.SAdd(ctx, list, id)
		p.PExpire(ctx, list, ttl)
		return nil
	})
	if err != nil {
		return fmt.Errorf("web file: %w", err)
	}
	return nil
}

// Get returns a file's bytes and type; found is false when there is none (any more).
func (f *WebFiles) Get(ctx context.Context, conv, id string) (data []byte, mime string, found bool, err error) {
	vals, err := f.c.HMGet(ctx, f.key(conv, id), "d", "t").Result()
	if err != nil {
		return nil, "", false, fmt.Errorf("web file: %w", err)
	}
	d, ok := vals[0].(string)
	if !ok {
		return nil, "", false, nil
	}
	t, _ := vals[1].(string)
	return []byte(d), t, true, nil
}

// forgetWebScript deletes a web chat conversation's replies, their ids, its files and
// their list. KEYS: replies, sent, files list; ARGV: the files' key prefix.
var forgetWebScript = redis.NewScript(`
for _, id in ipairs(redis.call('SMEMBERS', KEYS[3])) do
  redis.call('DEL', ARGV[1] .. id)
end
return redis.call('DEL', KEYS[1], KEYS[2], KEYS[3])
`)

// forgetWeb erases what the web chat keeps of conversation conv beside its session:
// what the bot said to it and the files it sent (Commit with Forget).
func (s *Store) forgetWeb(ctx context.Context, conv string) error {
	k := webKey(s.prefix, conv)
	if err := forgetWebScript.Run(ctx, s.c, []string{k + ":replies", k + ":sent", k + ":files"}, k+":file:").Err(); err != nil {
		return fmt.Errorf("redisstore: forget web chat: %w", err)
	}
	return nil
}
