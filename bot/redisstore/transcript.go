package redisstore

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	json "github.com/go-json-experiment/json/v1"
	"github.com/redis/go-redis/v9"

	"github.com/sangkien/sangkien/bot"
)

// This file keeps transcripts small. Most of what a transcript holds is the bot's own
// words, and most of those are the catalog's fixed texts: kept whole, they were three
// quarters of an idle conversation's memory. A line is stored as a short record whose
// text, for the bot's replies, is cut into the pieces it says in its own words and
// references to phrases, the catalog's fixed texts (Options.Phrases). Phrases name
// nobody, so they may live in one shared key, the phrase registry; whatever a line
// says of a citizen (their draft on the review card, a staff member's words) stays in
// the conversation's own key, and "erase my data" still erases it.
//
// The registry, <p>:{phr}:txt, is a hash from a phrase's number ("1", "2", …) to its
// text. A phrase is given its number once and keeps it: numbers are never reused or
// changed, and phrases are never deleted, so a transcript written by an older version
// reads the same after the catalog changed. Every process registers its phrases
// before its first commit (one script, idempotent); until the registry answers, lines
// are written whole.

// A line is kept as a short binary record (a JSON object spent more on its field names
// and its time than on the words of most lines):
//
//	0x02                     the record's mark (lines of older versions are
//	                         bot.TranscriptEntry's JSON and begin with '{')
//	flags                    1 towards the citizen (bot.Outgoing), 2 the text is in
//	                         parts, 4 a JSON tail follows
//	varint                   At, unix milliseconds
//	string                   EventID
//	kind                     0 the direction's default ("text" in, "reply" out),
//	                         1 + i entryKinds[i], 0xFF and a string
//	text                     a string, or (flag 2) a count and the parts: the text's
//	                         own words and phrase numbers, alternating (words, phrase,
//	                         words, …), words as strings, numbers as uvarints
//	JSON tail                (flag 4) Staff, Attachments and Location (entryTail)
//
// A string is its length (uvarint) and its bytes. entryKinds may only grow at its end.
var entryKinds = []string{"text", "reply", "command", "button", "contact", "location", "attachments",
	"unsupported", "follow", "unfollow", "status", "staff", "staff_join", "staff_reply",
	"staff_handback", "staff_note", "staff_assign", "staff_resolve"}

const (
	entryMark    = 0x02
	entryOut     = 1
	entryParts   = 2
	entryTailed  = 4
	entryLiteral = 0xFF
)

// entryTail holds what few lines have.
type entryTail struct {
	Staff       string           `json:"s,omitempty"`
	Attachments []bot.Attachment `json:"f,omitempty"`
	Location    *bot.Location    `json:"l,omitempty"`
}

// legacyEntry starts every line written in bot.TranscriptEntry's own JSON.
const legacyEntry = `{"dir":`

// PhraseMin is the shortest phrase worth a reference (Options.Phrases): a number and its quotes cost
// about as much as a dozen bytes of text.
const PhraseMin = 16

// phraseRetry is how long a store that could not register its phrases writes lines
// whole before it tries again.
const phraseRetry = 10 * time.Second

// phrasebook is what one store knows of the registry: its own phrases with their
// numbers once registered, and the texts of the numbers it has read back.
type phrasebook struct {
	key    string
	texts  []string
	starts map[uint64][]int // first 8 bytes → indexes of texts beginning so, longest first

	mu    sync.RWMutex
	refs  []uint64          // refs[i] is the number of texts[i]; nil until registered
	known map[uint64]string // number → text
	retry time.Time
}

func newPhrasebook(key string, phrases []string) *phrasebook {
	b := &phrasebook{key: key, starts: map[uint64][]int{}, known: map[uint64]string{}}
	seen := map[string]bool{}
	for _, p := range phrases {
		if len(p) >= PhraseMin && !seen[p] {
			seen[p] = true
			b.texts = append(b.texts, p)
		}
	}
	for i, p := range b.texts {
		k := prefix8(p)
		at := len(b.starts[k])
		for j, o := range b.starts[k] {
			if len(b.texts[o]) < len(p) {
				at = j
				break
			}
		}
		b.starts[k] = append(b.starts[k][:at], append([]int{i}, b.starts[k][at:]...)...)
	}
	return b
}

// prefix8 packs the first 8 bytes of s (len(s) >= 8).
func prefix8(s string) uint64 {
	var k uint64
	for i := range 8 {
		k = k<<8 | uint64(s[i])
	}
	return k
}

// registerScript gives each phrase of ARGV its number, the one it has or one past the
// highest given (never a number given before, even if its field was deleted), and
// returns the numbers in order. KEYS: the registry.
var registerScript = redis.NewScript(`
local have, n = {}, 0
local all = redis.call('HGETALL', KEYS[1])
for i = 1, #all, 2 do
  have[all[i + 1]] = all[i]
  n = math.max(n, tonumber(all[i]) or 0)
end
local out = {}
for i, t in ipairs(ARGV) do
  local ref = have[t]
  if not ref then
    n = n + 1
    ref = tostring(n)
    redis.call('HSET', KEYS[1], ref, t)
    have[t] = ref
  end
  out[i] = ref
end
return out
`)

// phrasesReady registers the phrases if they are not yet and it is time to try, and reports
// whether references may be written. A failure is logged and lines are written whole.
func (s *Store) phrasesReady(ctx context.Context) bool {
	b := s.phrases
	if len(b.texts) == 0 {
		return false
	}
	b.mu.RLock()
	ok, retry := b.refs != nil, b.retry
	b.mu.RUnlock()
	if ok {
		return true
	}
	if time.Now().Before(retry) {
		return false
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.refs != nil {
		return true
	}
	args := make([]any, len(b.texts))
	for i, t := range b.texts {
		args[i] = t
	}
	res, err := registerScript.Run(ctx, s.c, []string{b.key}, args...).StringSlice()
	refs := make([]uint64, len(res))
	for i, r := range res {
		if n, perr := strconv.ParseUint(r, 10, 64); perr == nil && err == nil {
			refs[i] = n
		} else if err == nil {
			err = fmt.Errorf("phrase number %q", r)
		}
	}
	if err != nil || len(refs) != len(b.texts) {
		b.retry = time.Now().Add(phraseRetry)
		s.log.Warn("cannot register the transcripts' phrases; lines are kept whole for now", "err", err)
		return false
	}
	for i, r := range refs {
		b.known[r] = b.texts[i]
	}
	b.refs = refs
	return true
}

// encodeEntry is e as Redis keeps it; withPhrases says whether phrases may be used.
// Only the bot's replies use them: what a citizen or staff wrote stays their words.
func (s *Store) encodeEntry(e bot.TranscriptEntry, withPhrases bool) ([]byte, error) {
	var flags byte
	def := "text"
	if e.Dir == bot.Outgoing {
		flags, def = entryOut, "reply"
	}
	var parts []any
	if withPhrases && e.Dir == bot.Outgoing && e.Kind == "reply" { // the bot's own words only
		parts = s.phrases.cut(e.Text)
	}
	if parts != nil {
		flags |= entryParts
	}
	tail := entryTail{Staff: e.Staff, Attachments: e.Attachments, Location: e.Location}
	if tail.Staff != "" || tail.Attachments != nil || tail.Location != nil {
		flags |= entryTailed
	}
	b := make([]byte, 0, 24+len(e.EventID)+len(e.Text))
	b = append(b, entryMark, flags)
	b = binary.AppendVarint(b, e.At.UnixMilli())
	b = appendString(b, e.EventID)
	switch k := slices.Index(entryKinds, e.Kind); {
	case e.Kind == def:
		b = append(b, 0)
	case k >= 0:
		b = append(b, byte(1+k))
	default:
		b = appendString(append(b, entryLiteral), e.Kind)
	}
	if parts == nil {
		b = appendString(b, e.Text)
	} else {
		b = binary.AppendUvarint(b, uint64(len(parts)))
		for _, p := range parts {
			switch p := p.(type) {
			case string:
				b = appendString(b, p)
			case uint64:
				b = binary.AppendUvarint(b, p)
			}
		}
	}
	if flags&entryTailed != 0 {
		js, err := json.Marshal(tail)
		if err != nil {
			return nil, err
		}
		b = append(b, js...)
	}
	return b, nil
}

func appendString(b []byte, s string) []byte {
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}

// cut splits text into its own words (strings) and the numbers (uint64) of the
// phrases it uses, alternating, longest phrase first from the left; nil when it uses
// none.
func (b *phrasebook) cut(text string) []any {
	var parts []any
	words := 0
	for i := 0; i+PhraseMin <= len(text); {
		if text[i]&0xC0 == 0x80 { // inside a character: no phrase starts here
			i++
			continue
		}
		n := 0
		for _, p := range b.starts[prefix8(text[i:])] {
			if strings.HasPrefix(text[i:], b.texts[p]) {
				parts = append(parts, text[words:i], b.refs[p])
				n = len(b.texts[p])
				break
			}
		}
		if n == 0 {
			i++
			continue
		}
		i += n
		words = i
	}
	if parts == nil {
		return nil
	}
	if words < len(text) {
		parts = append(parts, text[words:])
	}
	return parts
}

// decodeEntries reads transcript lines as Redis returned them, old form or new,
// fetching from the registry the phrases this process does not know.
func (s *Store) decodeEntries(ctx context.Context, vals []string) ([]bot.TranscriptEntry, error) {
	out := make([]bot.TranscriptEntry, len(vals))
	parts := make([][]any, len(vals))
	var missing []string
	b := s.phrases
	for i, v := range vals {
		if strings.HasPrefix(v, legacyEntry) {
			if err := json.Unmarshal([]byte(v), &out[i]); err != nil {
				return nil, err
			}
			continue
		}
		var err error
		if out[i], parts[i], err = decodeEntry(v); err != nil {
			return nil, err
		}
		b.mu.RLock()
		for j := 1; j < len(parts[i]); j += 2 {
			if _, ok := b.known[parts[i][j].(uint64)]; !ok {
				missing = append(missing, strconv.FormatUint(parts[i][j].(uint64), 10))
			}
		}
		b.mu.RUnlock()
	}
	if len(missing) > 0 {
		texts, err := s.c.HMGet(ctx, b.key, missing...).Result()
		if err != nil {
			return nil, fmt.Errorf("phrases: %w", err)
		}
		b.mu.Lock()
		for i, t := range texts {
			n, perr := strconv.ParseUint(missing[i], 10, 64)
			if t, ok := t.(string); ok && perr == nil {
				b.known[n] = t
			}
		}
		b.mu.Unlock()
	}
	b.mu.RLock()
	defer b.mu.RUnlock()
	for i, ps := range parts {
		if ps == nil {
			continue
		}
		// A phrase missing from the registry (which only an operator can delete) shows
		// as "[…]" rather than failing the whole transcript.
		var w strings.Builder
		for j, p := range ps {
			if j%2 == 0 {
				w.WriteString(p.(string))
			} else if t, ok := b.known[p.(uint64)]; ok {
				w.WriteString(t)
			} else {
				w.WriteString("[…]")
			}
		}
		out[i].Text = w.String()
	}
	return out, nil
}

var errEntry = errors.New("broken transcript line")

// decodeEntry reads one record; a text in parts is left to the caller, who knows the
// phrases.
func decodeEntry(v string) (bot.TranscriptEntry, []any, error) {
	r := entryReader{v: v}
	if r.byte() != entryMark {
		return bot.TranscriptEntry{}, nil, errEntry
	}
	flags := r.byte()
	e := bot.TranscriptEntry{Dir: bot.Inbound, Kind: "text"}
	if flags&entryOut != 0 {
		e.Dir, e.Kind = bot.Outgoing, "reply"
	}
	e.At = time.UnixMilli(r.varint()).UTC()
	e.EventID = r.string()
	switch k := r.byte(); {
	case k == entryLiteral:
		e.Kind = r.string()
	case k > 0 && int(k) <= len(entryKinds):
		e.Kind = entryKinds[k-1]
	case k != 0:
		r.err = errEntry
	}
	var parts []any
	if flags&entryParts == 0 {
		e.Text = r.string()
	} else {
		n := r.uvarint()
		for j := uint64(0); j < n && r.err == nil; j++ {
			if j%2 == 0 {
				parts = append(parts, r.string())
			} else {
				parts = append(parts, r.uvarint())
			}
		}
	}
	if flags&entryTailed != 0 && r.err == nil {
		var tail entryTail
		if err := json.Unmarshal([]byte(r.v[r.at:]), &tail); err != nil {
			return e, nil, err
		}
		e.Staff, e.Attachments, e.Location = tail.Staff, tail.Attachments, tail.Location
	} else if r.at != len(r.v) {
		r.err = errEntry
	}
	return e, parts, r.err
}

// entryReader reads a record's fields; the first error sticks.
type entryReader struct {
	v   string
	at  int
	err error
}

func (r *entryReader) byte() byte {
	if r.err != nil || r.at >= len(r.v) {
		r.err = errEntry
		return 0
	}
	r.at++
	return r.v[r.at-1]
}

func (r *entryReader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	n, k := binary.Uvarint([]byte(r.v[r.at:min(len(r.v), r.at+binary.MaxVarintLen64)]))
	if k <= 0 {
		r.err = errEntry
		return 0
	}
	r.at += k
	return n
}

func (r *entryReader) varint() int64 {
	if r.err != nil {
		return 0
	}
	n, k := binary.Varint([]byte(r.v[r.at:min(len(r.v), r.at+binary.MaxVarintLen64)]))
	if k <= 0 {
		r.err = errEntry
		return 0
	}
	r.at += k
	return n
}

func (r *entryReader) string() string {
	n := r.uvarint()
	if r.err != nil || n > uint64(len(r.v)-r.at) {
		r.err = errEntry
		return ""
	}
	r.at += int(n)
	return r.v[r.at-int(n) : r.at]
}
