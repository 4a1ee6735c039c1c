package redisstore

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"time"

	json "github.com/go-json-experiment/json/v1"
)

// This file shortens the JSON of the profiles and states the store keeps (an idle
// conversation's biggest values after its transcript) without knowing their shape, so
// that a new field needs nothing here and every value reads back byte for byte.
//
// JSON as encoding/json writes it never holds a byte below 0x20 (strings escape them),
// so those bytes are free to stand for longer pieces:
//
//	0x01                 first byte: the value is compacted (old values begin with '{')
//	0x02 <8 bytes>       a UTC time in RFC 3339 as a JSON string: its unix
//	                     nanoseconds, big-endian
//	0x03 … 0x1D          the tokens of compactTokens[0:27] (an object key with its
//	0x1E <0x21 + i>      quotes and colon, or a string value with its quotes), and of
//	                     compactTokens[27+i]
//	0x1F <16 bytes>      a JSON string of 32 lowercase hex digits (a draft's id)
//
// Only tokens outside strings are replaced: the scan follows the JSON's strings, so
// what a citizen wrote is never touched. compactTokens may only grow at its end: a
// stored value names its tokens by their place.
var compactTokens = []string{
	`"updated":`, `"created":`, `"last_inbound":`, `"consent":`, `"notice_version":`, `"programs":`,
	`"indexed":`, `"lang":`, `"flow":`, `"step":`, `"history":`, `"draft":`, `"kind":`,
	`"program_id":`, `"field":`, `"title":`, `"started":`, `"reached":`, `"id":`, `"at":`,
	`"initiative"`, `"description"`, `"desk":`, `"submissions":`, `"reference":`, `"status":`,
	`"mode":`,
	// Second table, 0x1E and one byte.
	`"feedback"`, `"consent"`, `"program"`, `"field"`, `"title"`, `"location"`, `"attachments"`,
	`"contact"`, `"review"`, `"name":`, `"phone":`, `"email":`, `"location":`, `"attachments":`,
	`"contact":`, `"description":`, `"proposal":`, `"submitted_at":`, `"opened":`, `"answered":`,
	`"assignee":`, `"waiting_since":`, `"resolved":`, `"reason":`, `"misses":`, `"editing":`,
	`"pending":`, `"offered":`, `"label":`, `"payload":`, `"lat":`, `"lon":`, `"ref":`,
	`"benefit":`, `"address":`, `"submission_id":`, `"opted_out":`, `"unreachable":`,
	`"human"`, `"topic":`, `"topic_ref":`, `"rating":`, `"comment":`, `"anonymous":`, `"vi"`, `"en"`,
	`true`, `false`,
}

const (
	compactMark   = 0x01
	compactTime   = 0x02
	compactFirst  = 0x03
	compactSecond = 0x1E
	compactHex    = 0x1F
	firstTable    = compactSecond - compactFirst // 27 tokens of one byte
)

// compactIndex finds a token's code by its text. Codes go up to 0x1E 0x7E
// (TestCompactTokens).
var compactIndex = func() map[string]int {
	m := make(map[string]int, len(compactTokens))
	for i, t := range compactTokens {
		m[t] = i
	}
	return m
}()

// compactJSON shortens js (JSON from encoding/json).
func compactJSON(js []byte) []byte {
	out := make([]byte, 1, len(js)/2+16)
	out[0] = compactMark
	for i := 0; i < len(js); {
		c := js[i]
		if c == 't' || c == 'f' { // true, false outside strings
			for _, lit := range []string{"true", "false"} {
				if bytes.HasPrefix(js[i:], []byte(lit)) {
					out = appendToken(out, compactIndex[lit])
					i += len(lit)
					goto next
				}
			}
		}
		if c != '"' {
			out = append(out, c)
			i++
			continue
		}
		{
			end := stringEnd(js, i)
			tok := js[i:end]
			if end < len(js) && js[end] == ':' {
				if n, ok := compactIndex[string(js[i:end+1])]; ok {
					out = appendToken(out, n)
					i = end + 1
					continue
				}
			} else if n, ok := compactIndex[string(tok)]; ok {
				out = appendToken(out, n)
				i = end
				continue
			} else if ns, ok := utcTime(tok); ok {
				out = binary.BigEndian.AppendUint64(append(out, compactTime), uint64(ns))
				i = end
				continue
			} else if len(tok) == 34 && isHex(tok[1:33]) {
				out = append(out, compactHex)
				out, _ = hex.AppendDecode(out, tok[1:33]) // isHex: no error
				i = end
				continue
			}
			out = append(out, tok...)
			i = end
		}
	next:
	}
	return out
}

func appendToken(out []byte, n int) []byte {
	if n < firstTable {
		return append(out, byte(compactFirst+n))
	}
	return append(out, compactSecond, byte(0x21+n-firstTable))
}

// stringEnd is the index just past the JSON string that starts at js[i] ('"').
func stringEnd(js []byte, i int) int {
	for j := i + 1; j < len(js); j++ {
		switch js[j] {
		case '\\':
			j++
		case '"':
			return j + 1
		}
	}
	return len(js)
}

// isHex reports whether b is lowercase hexadecimal digits only.
func isHex(b []byte) bool {
	for _, c := range b {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// utcTime reads tok, a JSON string, as a UTC time whose RFC 3339 form is exactly tok,
// so that it reads back the same.
func utcTime(tok []byte) (int64, bool) {
	if len(tok) < 22 || len(tok) > 32 || tok[len(tok)-2] != 'Z' || tok[11] != 'T' {
		return 0, false
	}
	s := string(tok[1 : len(tok)-1])
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil || t.Location() != time.UTC {
		return 0, false
	}
	ns := t.UnixNano()
	if ns <= 0 || time.Unix(0, ns).UTC().Format(time.RFC3339Nano) != s {
		return 0, false
	}
	return ns, true
}

var errCompact = errors.New("broken compacted value")

// expandJSON is the JSON that compactJSON shortened; a value that is not compacted (an
// older version's) is returned as it is.
func expandJSON(v []byte) ([]byte, error) {
	if len(v) == 0 || v[0] != compactMark {
		return v, nil
	}
	out := make([]byte, 0, len(v)*2)
	for i := 1; i < len(v); {
		c := v[i]
		switch {
		case c >= 0x20:
			out = append(out, c)
			i++
		case c == compactTime && i+9 <= len(v):
			ns := int64(binary.BigEndian.Uint64(v[i+1 : i+9]))
			out = append(out, '"')
			out = time.Unix(0, ns).UTC().AppendFormat(out, time.RFC3339Nano)
			out = append(out, '"')
			i += 9
		case c == compactHex && i+17 <= len(v):
			out = append(out, '"')
			out = hex.AppendEncode(out, v[i+1:i+17])
			out = append(out, '"')
			i += 17
		case c >= compactFirst && c < compactSecond:
			out = append(out, compactTokens[c-compactFirst]...)
			i++
		case c == compactSecond && i+1 < len(v) && int(v[i+1])-0x21+firstTable < len(compactTokens) && v[i+1] >= 0x21:
			out = append(out, compactTokens[int(v[i+1])-0x21+firstTable]...)
			i += 2
		default:
			return nil, errCompact
		}
	}
	return out, nil
}

// unmarshalCompact decodes a value of the store, compacted or not, into v.
func unmarshalCompact(v string, into any) error {
	js, err := expandJSON([]byte(v))
	if err != nil {
		return err
	}
	return json.Unmarshal(js, into)
}
