package redisstore

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sangkien/sangkien/bot"
)

// This file keeps transcripts small. Most of what a transcript holds is the bot's own
// words, and most of those are the catalog's fixed texts: kept whole, they were three
// quarters of an idle conversation's memory. A line is stored in a compact form
// (storedEntry) whose text is cut into the pieces it says in its own words and
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

// storedEntry is a transcript line as Redis keeps it. Lines written before this form
// are bot.TranscriptEntry's JSON (they begin with {"dir":) and are still read.
type storedEntry struct {
	// Out is 1 for a line towards the citizen (bot.Outgoing).
	Out int `json:"o,omitempty"`
	// Kind is left out when it is the default of the direction: "text" in, "reply" out.
	Kind    string `json:"k,omitempty"`
	EventID string `json:"e,omitempty"`
	// Text is the line's text when it uses no phrase; Parts otherwise: the text's own
	// words and phrase numbers, alternating (words, phrase, words, phrase, …).
	Text  string   `json:"t,omitempty"`
	Parts []string `json:"p,omitempty"`
	// At is unix milliseconds.
	At          int64            `json:"a"`
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
	refs  []string          // refs[i] is the number of texts[i]; nil until registered
	known map[string]string // number → text
	retry time.Time
}

func newPhrasebook(key string, phrases []string) *phrasebook {
	b := &phrasebook{key: key, starts: map[uint64][]int{}, known: map[string]string{}}
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

// registerScript gives each phrase of ARGV its number, the one it has or the next
// free one, and returns the numbers in order. KEYS: the registry.
var registerScript = redis.NewScript(`
local have = {}
local all = redis.call('HGETALL', KEYS[1])
for i = 1, #all, 2 do
  have[all[i + 1]] = all[i]
end
local n = #all / 2
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

// ready registers the phrases if they are not yet and it is time to try, and reports
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
	refs, err := registerScript.Run(ctx, s.c, []string{b.key}, args...).StringSlice()
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
	st := storedEntry{EventID: e.EventID, Kind: e.Kind, At: e.At.UnixMilli(), Staff: e.Staff,
		Attachments: e.Attachments, Location: e.Location}
	def := "text"
	if e.Dir == bot.Outgoing {
		st.Out, def = 1, "reply"
	}
	if st.Kind == def {
		st.Kind = ""
	}
	if withPhrases && e.Dir == bot.Outgoing && e.Kind == "reply" { // the bot's own words only
		st.Parts = s.phrases.cut(e.Text)
	}
	if st.Parts == nil {
		st.Text = e.Text
	}
	return json.Marshal(st)
}

// cut splits text into its own words and the phrases it uses, longest phrase first
// from the left; nil when it uses none.
func (b *phrasebook) cut(text string) []string {
	var parts []string
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
	stored := make([]*storedEntry, len(vals))
	var missing []string
	b := s.phrases
	b.mu.RLock()
	for i, v := range vals {
		if strings.HasPrefix(v, legacyEntry) {
			if err := json.Unmarshal([]byte(v), &out[i]); err != nil {
				b.mu.RUnlock()
				return nil, err
			}
			continue
		}
		st := &storedEntry{}
		if err := json.Unmarshal([]byte(v), st); err != nil {
			b.mu.RUnlock()
			return nil, err
		}
		stored[i] = st
		for j := 1; j < len(st.Parts); j += 2 {
			if _, ok := b.known[st.Parts[j]]; !ok {
				missing = append(missing, st.Parts[j])
			}
		}
	}
	b.mu.RUnlock()
	if len(missing) > 0 {
		texts, err := s.c.HMGet(ctx, b.key, missing...).Result()
		if err != nil {
			return nil, fmt.Errorf("phrases: %w", err)
		}
		b.mu.Lock()
		for i, t := range texts {
			if t, ok := t.(string); ok {
				b.known[missing[i]] = t
			}
		}
		b.mu.Unlock()
	}
	b.mu.RLock()
	defer b.mu.RUnlock()
	for i, st := range stored {
		if st != nil {
			out[i] = b.entry(st)
		}
	}
	return out, nil
}

// entry is st as the engine wrote it. A phrase missing from the registry (which only
// an operator can delete) shows as "[…]" rather than failing the whole transcript.
func (b *phrasebook) entry(st *storedEntry) bot.TranscriptEntry {
	e := bot.TranscriptEntry{Dir: bot.Inbound, Kind: st.Kind, EventID: st.EventID, Text: st.Text,
		At: time.UnixMilli(st.At).UTC(), Staff: st.Staff, Attachments: st.Attachments, Location: st.Location}
	def := "text"
	if st.Out == 1 {
		e.Dir, def = bot.Outgoing, "reply"
	}
	if e.Kind == "" {
		e.Kind = def
	}
	if st.Parts != nil {
		var w strings.Builder
		for j, p := range st.Parts {
			if j%2 == 0 {
				w.WriteString(p)
			} else if t, ok := b.known[p]; ok {
				w.WriteString(t)
			} else {
				w.WriteString("[…]")
			}
		}
		e.Text = w.String()
	}
	return e
}
