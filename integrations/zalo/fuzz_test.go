package zalo

import (
	"bytes"
	"context"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	json "github.com/go-json-experiment/json/v1"

	"github.com/sangkien/sangkien/bot"
	"github.com/sangkien/sangkien/integrations/zalo/zalotest"
)

// FuzzParse holds Parse's promises for any body: no panic, the same answer twice, and
// each event names a Zalo user and an id fit for the engine's dedupe.
func FuzzParse(f *testing.F) {
	f.Add([]byte(`{"event_name":"user_send_text","timestamp":1764316800000,"sender":{"id":7392845012349876543},"message":{"msg_id":"m1","text":"hi"}}`))
	f.Add([]byte(`{"event_name":"follow","timestamp":"99999999999999999","follower":{"id":"1"}}`))
	f.Add([]byte(`{"event_name":"oa_send_text","timestamp":"1764316800000","sender":{"admin_id":"a"},"recipient":{"id":"7392845012349876543"}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		evs, err := Parse(body)
		again, errAgain := Parse(body)
		if !reflect.DeepEqual(evs, again) || (err == nil) != (errAgain == nil) {
			t.Fatalf("Parse is not deterministic: %v, %v then %v, %v", evs, err, again, errAgain)
		}
		if err != nil && len(evs) != 0 {
			t.Fatalf("error %v with events %v", err, evs)
		}
		for _, ev := range evs {
			if ev.Conversation.Channel != bot.Zalo || !validUserID(ev.Conversation.ID) || ev.ID == "" || len(ev.ID) > 128 {
				t.Fatalf("event %+v", ev)
			}
		}
	})
}

// FuzzWebhook holds the webhook's first promise: a delivery whose signature does not
// check never reaches the inbox or the engine, and is answered 401 (400 for a body
// that is not JSON, which is looked at first). Each input is posted four ways: with the
// fuzzed header, with the right signature but one hex digit changed, signed with
// another OA secret, and rightly signed; only the last may be taken, and then exactly
// the events Parse finds reach the engine.
func FuzzWebhook(f *testing.F) {
	f.Add([]byte(`{"event_name":"user_send_text","timestamp":"1764316800000","sender":{"id":"7392845012349876543"},"message":{"msg_id":"m1","text":"hi"}}`),
		"mac=0000000000000000000000000000000000000000000000000000000000000000", uint16(7))
	f.Add([]byte(`{"event_name":"follow","timestamp":1764316800000,"follower":{"id":"7392845012349876543"}}`), " MAC= ", uint16(63))
	f.Add([]byte(`not json`), "mac=zz", uint16(0))
	f.Add([]byte(`{"timestamp":"\u0031764316800000","event_name":"user_send_text"}`), "", uint16(1))
	f.Fuzz(func(t *testing.T, body []byte, header string, flip uint16) {
		rec := &fuzzHandler{}
		inbox := &fuzzInbox{}
		wh, err := NewWebhook(Config{AppID: zalotest.AppID, OASecret: zalotest.OASecret, Handler: rec, Inbox: inbox, Now: fixedNow})
		if err != nil {
			t.Fatal(err)
		}
		right := zalotest.Sign(zalotest.AppID, body, zalotest.OASecret)
		forged := map[string]string{
			"fuzzed":    header,
			"one digit": changeDigit(right, int(flip)),
			"other key": zalotest.Sign(zalotest.AppID, body, "another-oa-secret"),
		}
		if macHex(header) == strings.TrimPrefix(right, "mac=") {
			delete(forged, "fuzzed") // the fuzzer wrote the right signature: not a forgery
		}
		for how, sig := range forged {
			code := postZalo(wh, sig, body)
			want := http.StatusUnauthorized
			if strings.TrimSpace(sig) != "" && json.Unmarshal(body, &envelope{}) != nil {
				want = http.StatusBadRequest
			}
			if code != want || rec.calls != 0 || inbox.puts != 0 {
				t.Fatalf("%s signature %q: answered %d (want %d), %d events handled, %d stored", how, sig, code, want, rec.calls, inbox.puts)
			}
		}
		code := postZalo(wh, right, body)
		switch code {
		case http.StatusOK:
			evs, _ := Parse(body)
			if !reflect.DeepEqual(rec.events, evs) {
				t.Fatalf("signed body handled as %v, Parse finds %v", rec.events, evs)
			}
		case http.StatusBadRequest, http.StatusUnauthorized:
			if rec.calls != 0 || inbox.puts != 0 {
				t.Fatalf("signed body answered %d, but %d events handled, %d stored", code, rec.calls, inbox.puts)
			}
		default:
			t.Fatalf("signed body answered %d", code)
		}
	})
}

// postZalo posts body with the signature header sig ("" for none).
func postZalo(wh *Webhook, sig string, body []byte) int {
	req := httptest.NewRequest(http.MethodPost, "/webhooks/zalo", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if sig != "" {
		req.Header.Set(SignatureHeader, sig)
	}
	rw := httptest.NewRecorder()
	wh.ServeHTTP(rw, req)
	return rw.Code
}

// changeDigit changes the hex digit at i (modulo the signature's length) of "mac=<hex>"
// to another value.
func changeDigit(sig string, i int) string {
	b := []byte(sig)
	i = len("mac=") + i%(len(b)-len("mac="))
	v, _ := hex.DecodeString("0" + string(b[i]))
	b[i] = "0123456789abcdef"[(v[0]+1)%16]
	return string(b)
}

// macHex is the hex a signature header carries, lowered, as Zalo writes it.
func macHex(h string) string {
	h = strings.TrimSpace(h)
	if len(h) >= 4 && strings.EqualFold(h[:4], "mac=") {
		h = strings.TrimSpace(h[4:])
	}
	return strings.ToLower(h)
}

// fuzzHandler records the events it is given; it is the engine's stand-in when the
// question is only whether an event got there.
type fuzzHandler struct {
	calls  int
	events []bot.Event
}

func (h *fuzzHandler) Handle(_ context.Context, ev bot.Event) (bot.Outcome, error) {
	h.calls++
	h.events = append(h.events, ev)
	return bot.Outcome{}, nil
}

// fuzzInbox counts what it is given to keep.
type fuzzInbox struct{ puts int }

func (in *fuzzInbox) Put(context.Context, string, []byte) (func(context.Context) error, error) {
	in.puts++
	return func(context.Context) error { return nil }, nil
}

func (in *fuzzInbox) Takeover(context.Context, int, func(context.Context, string, []byte) error) (int, error) {
	return 0, nil
}
