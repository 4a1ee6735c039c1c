package redisstore

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	json "github.com/go-json-experiment/json/v1"
	"github.com/redis/go-redis/v9"

	"github.com/sangkien/sangkien/bot"
)

// DefaultAuditRetention is how long the audit trail keeps an entry: two years.
const DefaultAuditRetention = 730 * 24 * time.Hour

// Page sizes of Audit.List.
const (
	DefaultAuditLimit = 50
	MaxAuditLimit     = 500
	// auditScanMax bounds how many entries one filtered List reads before it hands
	// back what it found and a cursor to go on from.
	auditScanMax = 5000
	auditChunk   = 500
)

// AuditOptions configures the audit trail. Zero fields take the defaults.
type AuditOptions struct {
	// Retention drops entries older than that (DefaultAuditRetention).
	Retention time.Duration
	// Now is the clock (time.Now when nil); tests move it.
	Now func() time.Time
}

// AuditQuery asks for one page of the audit trail (bot.AuditQuery).
type AuditQuery = bot.AuditQuery

// Audit is the console's audit trail: one stream, <p>:audit, whose entry ids are the
// entries' times, so that trimming by age (MINID) and paging by cursor both read the
// ids alone.
type Audit struct {
	c   redis.UniversalClient
	key string
	o   AuditOptions
}

// Audit returns the store's audit trail.
func (s *Store) Audit(o AuditOptions) *Audit {
	if o.Retention <= 0 {
		o.Retention = DefaultAuditRetention
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Audit{c: s.c, key: s.prefix + ":audit", o: o}
}

// auditAddScript appends an entry with the id "<at ms>-*" and trims entries older than
// the retention. An entry older than the stream's last id (another process's clock, or
// an At given late) takes the last id's millisecond instead: stream ids only grow.
//
// KEYS: stream. ARGV: min id, at ms, entry JSON.
var auditAddScript = redis.NewScript(`
local ok = redis.pcall('XADD', KEYS[1], 'MINID', '~', ARGV[1], ARGV[2] .. '-*', 'e', ARGV[3])
if type(ok) ~= 'table' or not ok.err then
  return ok
end
local info = redis.call('XINFO', 'STREAM', KEYS[1])
local last
for i = 1, #info, 2 do
  if info[i] == 'last-generated-id' then last = info[i + 1] end
end
local ms = string.match(last or '', '^(%d+)-')
if not ms then
  return redis.error_reply(ok.err)
end
return redis.call('XADD', KEYS[1], 'MINID', '~', ARGV[1], ms .. '-*', 'e', ARGV[3])
`)

// Record appends e to the trail: At defaults to now, Staff is normalized and cut to
// bot.EmailMax bytes (no email is longer: a longer one is text someone typed), a Detail
// longer than bot.AuditDetailMax characters is cut to that length ending in "…", and
// entries older than the retention are trimmed in the same command (whole stream
// nodes at a time: List never shows what is left of them).
func (a *Audit) Record(ctx context.Context, e bot.AuditEntry) error {
	if e.Action == "" {
		return errors.New("audit record: action is required")
	}
	if e.At.IsZero() {
		e.At = a.o.Now()
	}
	e.ID = ""
	e.Staff = cutStaff(bot.NormalizeEmail(e.Staff))
	e.Detail = cutDetail(e.Detail)
	raw, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("audit record: %w", err)
	}
	at := max(e.At.UnixMilli(), 0)
	err = auditAddScript.Run(ctx, a.c, []string{a.key}, a.minID(), at, raw).Err()
	if err != nil {
		return fmt.Errorf("audit record: %w", err)
	}
	return nil
}

// List returns one page of entries, newest first, and the cursor of the next page
// ("" when there is none).
func (a *Audit) List(ctx context.Context, q AuditQuery) ([]bot.AuditEntry, string, error) {
	start := "+"
	if q.Before != "" {
		if _, ok := idMillis(q.Before); !ok {
			return nil, "", fmt.Errorf("audit list: %w", bot.ErrBadAuditCursor)
		}
		start = "(" + q.Before
	}
	limit := q.Limit
	if limit <= 0 {
		limit = DefaultAuditLimit
	}
	limit = min(limit, MaxAuditLimit)
	q.Staff = bot.NormalizeEmail(q.Staff)
	filtered := q.Staff != "" || q.Action != "" || q.Conversation != ""
	// One more than a page tells whether another page follows.
	chunk := limit + 1
	if filtered {
		chunk = auditChunk
	}
	cutoff := a.o.Now().Add(-a.o.Retention).UnixMilli()

	var out []bot.AuditEntry
	for scanned := 0; scanned < auditScanMax; {
		msgs, err := a.c.XRevRangeN(ctx, a.key, start, "-", int64(chunk)).Result()
		if err != nil {
			return nil, "", fmt.Errorf("audit list: %w", err)
		}
		for i, m := range msgs {
			if ms, _ := idMillis(m.ID); ms < cutoff {
				// Left over by the approximate trim; everything older is too.
				return out, "", nil
			}
			if len(out) == limit {
				return out, out[limit-1].ID, nil
			}
			scanned++
			e, err := auditEntryOf(m)
			if err != nil {
				return nil, "", fmt.Errorf("audit list: %w", err)
			}
			if q.Matches(e) {
				out = append(out, e)
			}
			if len(out) == limit && i == len(msgs)-1 && len(msgs) == chunk {
				// A full page at the end of a full chunk: there may be more.
				return out, e.ID, nil
			}
		}
		if len(msgs) < chunk {
			return out, "", nil
		}
		start = "(" + msgs[len(msgs)-1].ID
	}
	// The scan bound: go on next time from the last entry read.
	return out, strings.TrimPrefix(start, "("), nil
}

// minID is the oldest stream id the retention keeps.
func (a *Audit) minID() string {
	return strconv.FormatInt(max(a.o.Now().Add(-a.o.Retention).UnixMilli(), 0), 10)
}

func auditEntryOf(m redis.XMessage) (bot.AuditEntry, error) {
	var e bot.AuditEntry
	raw, _ := m.Values["e"].(string)
	if err := json.Unmarshal([]byte(raw), &e); err != nil {
		return e, fmt.Errorf("entry %s: %w", m.ID, err)
	}
	e.ID = m.ID
	return e, nil
}

// idMillis reads the millisecond part of a stream id "<ms>-<seq>".
func idMillis(id string) (int64, bool) {
	ms, seq, ok := strings.Cut(id, "-")
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(ms, 10, 64)
	if err != nil || n < 0 {
		return 0, false
	}
	if _, err := strconv.ParseUint(seq, 10, 64); err != nil {
		return 0, false
	}
	return n, true
}

// cutDetail keeps at most bot.AuditDetailMax characters, the last one "…" when cut.
func cutDetail(s string) string {
	if utf8.RuneCountInString(s) <= bot.AuditDetailMax {
		return s
	}
	n := 0
	for i := range s {
		if n == bot.AuditDetailMax-1 {
			return s[:i] + "…"
		}
		n++
	}
	return s
}

// cutStaff keeps at most bot.EmailMax bytes of s, never splitting a character.
func cutStaff(s string) string {
	if len(s) <= bot.EmailMax {
		return s
	}
	i := bot.EmailMax
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i]
}
