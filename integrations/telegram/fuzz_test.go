package telegram

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	json "github.com/go-json-experiment/json/v1"

	"github.com/sangkien/sangkien/bot"
)

// FuzzParse holds Parse's promises for any body: it never panics, gives the same answer
// twice, refuses only with the package's errors (errMalformed, errUnusable) and then
// with no events; and an update it takes, re-encoded from the parts it decoded, parses
// again to the same ids: update_id, chat, message id and callback id. The seeds are the
// real updates in testdata/ (testdata/fuzz/FuzzParse) and the shapes below.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		`{"update_id":1,"message":{"message_id":1,"from":{"id":42},"chat":{"id":42},"text":"/start@SangKienBot prog_x"}}`,
		`{"update_id":1,"message":{"message_id":1,"from":{"id":42},"chat":{"id":0,"type":"private"},"text":"hi"}}`,
		`{"update_id":2,"callback_query":{"id":"q","from":{"id":42},"message":{"message_id":1,"chat":{"id":-100}}}}`,
		`{"update_id":3,"my_chat_member":{"chat":{"id":42,"type":"private"},"from":{"id":42},"new_chat_member":{"status":"kicked"}}}`,
		`{"update_id":4,"message":{"message_id":1,"from":{"id":42},"chat":{"id":"42","type":"private"},"text":"hi"}}`,
		`{"Update_ID":5,"MESSAGE":{"message_id":9,"chat":{"id":42,"type":"private"},"pinned_message":{}}}`,
		`{"update_id":9223372036854775807,"message":null,"callback_query":{"id":"x","from":{"id":1}}}`,
		`{"update_id":"one"}`, `[1,2,3]`, `null`, `{`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		p, err := parse(body)
		again, errAgain := parse(body)
		if !reflect.DeepEqual(p, again) || errText(err) != errText(errAgain) {
			t.Fatalf("parse is not deterministic: %+v, %v then %+v, %v", p, err, again, errAgain)
		}
		if evs, perr := Parse(body); !reflect.DeepEqual(evs, p.events) || errText(perr) != errText(err) {
			t.Fatalf("Parse = %v, %v; parse = %v, %v", evs, perr, p.events, err)
		}
		if err != nil {
			if !errors.Is(err, errUnusable) && !errors.Is(err, errMalformed) {
				t.Fatalf("error %v is none of the package's", err)
			}
			if len(p.events) != 0 {
				t.Fatalf("error %v with events %v", err, p.events)
			}
			return
		}
		checkIDs(t, p)
		re := reencode(t, body)
		q, err := parse(re)
		if err != nil {
			t.Fatalf("update %s re-encoded as %s: %v", body, re, err)
		}
		if q.id != p.id || len(q.events) != len(p.events) {
			t.Fatalf("re-encoded update %d with %d events parses as %d with %d", p.id, len(p.events), q.id, len(q.events))
		}
		for i := range p.events {
			if q.events[i].ID != p.events[i].ID || q.events[i].Conversation != p.events[i].Conversation {
				t.Fatalf("event %+v re-encoded parses as %+v", p.events[i], q.events[i])
			}
		}
		if (p.callback == nil) != (q.callback == nil) || p.callback != nil && (q.callback.ID != p.callback.ID ||
			(p.callback.Message == nil) != (q.callback.Message == nil) ||
			p.callback.Message != nil && q.callback.Message.MessageID != p.callback.Message.MessageID) {
			t.Fatalf("callback %+v re-encoded parses as %+v", p.callback, q.callback)
		}
		if m, m2 := decodedMessage(t, body), decodedMessage(t, re); m != m2 {
			t.Fatalf("message (id, chat) %v re-encoded reads as %v", m, m2)
		}
		if (p.group == nil) != (q.group == nil) || p.group != nil && (q.group.MessageID != p.group.MessageID || q.group.Chat.ID != p.group.Chat.ID) {
			t.Fatalf("group message %+v re-encoded parses as %+v", p.group, q.group)
		}
	})
}

// decodedMessage is the message id and chat id of an update's message, zeros without
// one.
func decodedMessage(t *testing.T, body []byte) [2]int64 {
	t.Helper()
	u, err := decodeUpdate(body)
	if err != nil || !present(u.Message) {
		return [2]int64{}
	}
	m, _, err := decodeMessage(u.Message)
	switch {
	case err != nil:
		return [2]int64{}
	case m.Chat == nil:
		return [2]int64{m.MessageID}
	}
	return [2]int64{m.MessageID, m.Chat.ID}
}

// checkIDs holds the ids of a parsed update: each event is named by the update_id, in a
// Telegram chat whose id reads back as the same non-zero number.
func checkIDs(t *testing.T, p parsed) {
	t.Helper()
	for _, ev := range p.events {
		if ev.ID != strconv.FormatInt(p.id, 10) {
			t.Fatalf("event id %q of update %d", ev.ID, p.id)
		}
		chat, err := strconv.ParseInt(ev.Conversation.ID, 10, 64)
		if err != nil || chat == 0 || strconv.FormatInt(chat, 10) != ev.Conversation.ID || ev.Conversation.Channel != "telegram" {
			t.Fatalf("event of update %d in conversation %+v", p.id, ev.Conversation)
		}
	}
}

// reencode writes an update again from what the gateway decoded of it: update_id and
// each kind it reads, in the wire types. A message keeps its other fields (they tell
// content and service messages apart), its read fields replaced by their decoded values.
func reencode(t *testing.T, body []byte) []byte {
	t.Helper()
	u, err := decodeUpdate(body)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]any{"update_id": *u.ID}
	if present(u.Message) {
		m, _, err := decodeMessage(u.Message)
		if err != nil {
			t.Fatal(err)
		}
		out["message"] = withKeys(t, m.keys, m)
	}
	if present(u.CallbackQuery) {
		var q callbackQuery
		_ = json.Unmarshal(u.CallbackQuery, &q) // a field of another type stays empty, as in parse
		out["callback_query"] = q
	}
	if present(u.MyChatMember) {
		var m chatMemberUpdated
		_ = json.Unmarshal(u.MyChatMember, &m)
		out["my_chat_member"] = m
	}
	for k, raw := range map[string]json.RawMessage{"edited_message": u.EditedMessage, "channel_post": u.ChannelPost,
		"edited_channel_post": u.EditedChannelPost} {
		if present(raw) {
			out[k] = raw
		}
	}
	b, err := json.Marshal(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// withKeys is v's JSON over the fields of keys: a key that decoding matched to one of
// v's fields (encoding/json matches names without regard to case) is replaced by it.
func withKeys(t *testing.T, keys map[string]json.RawMessage, v any) map[string]json.RawMessage {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(b, &fields); err != nil {
		t.Fatal(err)
	}
	out := map[string]json.RawMessage{}
	for k, raw := range keys {
		out[k] = raw
	}
	for name, raw := range fields {
		for k := range out {
			if strings.EqualFold(k, name) {
				delete(out, k)
			}
		}
		out[name] = raw
	}
	return out
}

// FuzzWebhook holds the webhook's first promise: a delivery without the secret given to
// setWebhook (the fuzzed header, or the secret with one character changed) reaches
// neither the engine nor the album store and is answered 401. With the secret, an
// update the engine runs is the one parse finds, given once; album parts are stored
// instead, and nothing else reaches either.
func FuzzWebhook(f *testing.F) {
	f.Add([]byte(`{"update_id":1,"message":{"message_id":1,"from":{"id":42},"chat":{"id":42,"type":"private"},"text":"hi"}}`), "", uint16(0))
	f.Add([]byte(`{"update_id":2,"message":{"message_id":2,"from":{"id":42},"chat":{"id":42,"type":"private"},"media_group_id":"g","photo":[{"file_id":"p"}]}}`),
		testSecret+" ", uint16(3))
	f.Add([]byte(`{"update_id":3,"callback_query":{"id":"q","from":{"id":42},"data":"menu:propose"}}`), strings.ToUpper(testSecret), uint16(29))
	f.Add([]byte(`{`), "s3cret-webhook-token_for-test", uint16(7))
	f.Fuzz(func(t *testing.T, body []byte, secret string, at uint16) {
		rec := &fuzzHandler{}
		albums := &fuzzAlbums{}
		w, err := NewWebhook(Config{Secret: testSecret, Handler: rec, Albums: albums})
		if err != nil {
			t.Fatal(err)
		}
		changed := []byte(testSecret)
		changed[int(at)%len(changed)] ^= 0x20 // a letter's case, or another character
		for _, s := range []string{secret, string(changed)} {
			if s == testSecret {
				continue // the fuzzer wrote the secret
			}
			if code := postTelegram(w, s, body); code != http.StatusUnauthorized || rec.calls != 0 || albums.parts != 0 {
				t.Fatalf("secret %q: answered %d, %d events handled, %d album parts stored", s, code, rec.calls, albums.parts)
			}
		}
		p, perr := parse(body)
		code := postTelegram(w, testSecret, body)
		want := http.StatusOK
		if errors.Is(perr, errMalformed) {
			want = http.StatusBadRequest
		}
		if len(body) > DefaultMaxBody {
			want = http.StatusRequestEntityTooLarge
		}
		if code != want {
			t.Fatalf("update %s with the secret: answered %d, want %d", body, code, want)
		}
		switch {
		case code != http.StatusOK || perr != nil || p.skip != "" || p.group != nil:
			if rec.calls != 0 || albums.parts != 0 {
				t.Fatalf("update %s (%v) not to run: %d events handled, %d album parts stored", body, perr, rec.calls, albums.parts)
			}
		case p.album != "" && len(p.events) == 1:
			if rec.calls != 0 || albums.parts != 1 {
				t.Fatalf("album part %s: %d events handled, %d album parts stored", body, rec.calls, albums.parts)
			}
		default:
			if !reflect.DeepEqual(rec.events, p.events) || albums.parts != 0 {
				t.Fatalf("update %s: handled %v, parse finds %v; %d album parts stored", body, rec.events, p.events, albums.parts)
			}
		}
	})
}

// postTelegram posts body with the secret header secret ("" for none).
func postTelegram(w *Webhook, secret string, body []byte) int {
	req := httptest.NewRequest(http.MethodPost, "/webhooks/telegram", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if secret != "" {
		req.Header.Set(SecretHeader, secret)
	}
	rw := httptest.NewRecorder()
	w.ServeHTTP(rw, req)
	return rw.Code
}

// fuzzHandler records the events it is given; the question is only whether one got there.
type fuzzHandler struct {
	calls  int
	events []bot.Event
}

func (h *fuzzHandler) Handle(_ context.Context, ev bot.Event) (bot.Outcome, error) {
	h.calls++
	h.events = append(h.events, ev)
	return bot.Outcome{}, nil
}

// fuzzAlbums counts the album parts it is given to store.
type fuzzAlbums struct{ parts int }

func (a *fuzzAlbums) Add(context.Context, bot.ConversationRef, string, int64, []byte, time.Time) error {
	a.parts++
	return nil
}

func (a *fuzzAlbums) Due(context.Context, time.Time, time.Duration, int) ([]string, error) {
	return nil, nil
}

func (a *fuzzAlbums) Parts(context.Context, string) (map[int64][]byte, bool, error) {
	return nil, false, nil
}

func (a *fuzzAlbums) Done(context.Context, string, []int64) error { return nil }

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
