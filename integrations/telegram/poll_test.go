package telegram

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/sangkien/sangkien/bot"
)

// Polling runs updates through the webhook's path: deleteWebhook first, offsets move on
// only past handled updates, and an update the engine failed on is asked for again.
func TestPoll(t *testing.T) {
	client, api := newTestClient(t, nil)
	rec := newRecorder(t)
	wh, err := NewWebhook(Config{Secret: testSecret, Client: client, Handler: rec, Albums: newAlbums(t)})
	if err != nil {
		t.Fatal(err)
	}
	rec.setFail(errRedisDown)
	api.QueueUpdate(string(readTestdata(t, "text.json")), string(readTestdata(t, "callback_query.json")))

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Poll(ctx, client, wh, 1) }()

	<-rec.done // the first try of text.json failed
	rec.setFail(nil)
	api.Wait("answerCallbackQuery", 1) // both updates handled after the back-off
	api.Wait("getUpdates", 3)          // and the next poll asks for what follows them
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Poll: %v", err)
	}
	if err := wh.Close(context.Background()); err != nil {
		t.Fatal(err)
	}

	var events []string
	for _, ev := range rec.got() {
		events = append(events, summary(ev))
	}
	if len(events) != 2 || events[0] != "700000001 text" || events[1] != "700000004 button menu:propose" {
		t.Errorf("events %q", events)
	}
	// Every try of an update has a request id of its own for its log lines, as a
	// webhook request has: three tries (text.json twice), three ids.
	rec.mu.Lock()
	ids := rec.requests
	rec.mu.Unlock()
	if len(ids) != 3 || ids[0] == "" || ids[0] == ids[1] || ids[1] == ids[2] || ids[0] == ids[2] {
		t.Errorf("request ids of the handled updates %q: want three, each its own", ids)
	}
	reqs := api.Requests()
	if reqs[1].Method != "deleteWebhook" {
		t.Errorf("first call after getMe: %s", reqs[1].Method)
	}
	var offsets []string
	for _, r := range api.Calls("getUpdates") {
		offsets = append(offsets, r.Params["offset"])
	}
	if offsets[0] != "" || offsets[1] != "" || offsets[len(offsets)-1] != "700000005" {
		t.Errorf("getUpdates offsets %q: want none until text.json is handled, then past the button", offsets)
	}
}

// A batch holding updates the gateway cannot read as a library would (the docs' inline
// query with a numeric id, a chat id of 0) is still read: each update is acknowledged
// on its own, the others run, and the offset moves past them all.
func TestPollReadsEveryUpdateOfABatch(t *testing.T) {
	client, api := newTestClient(t, nil)
	rec := newRecorder(t)
	wh, err := NewWebhook(Config{Secret: testSecret, Client: client, Handler: rec, Albums: newAlbums(t)})
	if err != nil {
		t.Fatal(err)
	}
	api.QueueUpdate(string(readTestdata(t, "text.json")), string(readTestdata(t, "docs_inline_query.json")),
		string(readTestdata(t, "chat_id_zero.json")), string(readTestdata(t, "docs_chat_without_type.json")))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Poll(ctx, client, wh, 1) }()
	api.Wait("getUpdates", 2) // asked for again once the batch was done with, or failed

	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Poll: %v", err)
	}
	if err := wh.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	var events []string
	for _, ev := range rec.got() {
		events = append(events, summary(ev))
	}
	if len(events) != 2 || events[0] != "700000001 text" || events[1] != "700000030 command start" {
		t.Errorf("events %q", events)
	}
	calls := api.Calls("getUpdates")
	if got := calls[1].Params["offset"]; got != "700000031" {
		t.Errorf("second getUpdates from offset %q, want past the whole batch", got)
	}
	if n := len(api.Calls("sendMessage")); n != 0 {
		t.Errorf("%d messages sent while polling", n)
	}
}

func TestPollStopsOnDeleteWebhookFailure(t *testing.T) {
	client, api := newTestClient(t, nil)
	wh, err := NewWebhook(Config{Secret: testSecret, Handler: newRecorder(t), Albums: newAlbums(t)})
	if err != nil {
		t.Fatal(err)
	}
	api.Fail("deleteWebhook", 401, `{"ok":false,"error_code":401,"description":"Unauthorized"}`)
	if err := Poll(context.Background(), client, wh, 1); err == nil {
		t.Error("Poll went on without deleting the webhook")
	}
}

// getUpdates failing is retried after a back-off until the context ends.
func TestPollRetriesGetUpdates(t *testing.T) {
	client, api := newTestClient(t, nil)
	wh, err := NewWebhook(Config{Secret: testSecret, Handler: newRecorder(t), Albums: newAlbums(t)})
	if err != nil {
		t.Fatal(err)
	}
	api.Fail("getUpdates", 502, `bad gateway`)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Poll(ctx, client, wh, 1) }()
	api.Wait("getUpdates", 2)
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Poll: %v", err)
	}
}

func TestPollWait(t *testing.T) {
	limited := &bot.SendError{Failure: bot.RateLimited, RetryAfter: 7 * time.Second}
	tests := []struct {
		failures int // in a row: the 1st waits 500ms, the 2nd 1s, the 3rd 2s, …
		err      error
		want     time.Duration
	}{
		{1, errors.New("x"), 500 * time.Millisecond},
		{3, errors.New("x"), 2 * time.Second},
		{7, errors.New("x"), pollBackoffMax},
		{3, limited, 7 * time.Second},
	}
	for _, tt := range tests {
		if got := pollWait(tt.failures, tt.err); got != tt.want {
			t.Errorf("pollWait(%d, %v) = %s, want %s", tt.failures, tt.err, got, tt.want)
		}
	}
}
