// Package zalo is the Zalo Official Account channel adapter: a webhook that verifies
// Zalo's X-ZEvent-Signature and turns events into bot.Events for the engine, and a
// Client that draws bot.Replies as consultation ("cs") messages of the OA API v3 and
// classifies failures as *bot.SendError for the delivery queue.
//
// A consultation message reaches a citizen only within Zalo's interaction window, 7
// days after their last message (testdata/zns.md). Past it, the Client sends an
// Outbound that carries a bot.ZNSMessage as a Zalo Notification Service message
// instead: an approved template sent to the phone the citizen gave (zns.go), through
// Zalo's business API with the same access token.
//
// Zalo's access tokens last about 25 hours and are renewed with a refresh token that is
// single-use: each refresh returns a new pair and voids the old refresh token. Two
// processes refreshing at once would each burn the other's token, so the pair lives in a
// TokenStore shared by every gateway process (bot/redisstore implements it) and exactly
// one refresh is in flight at a time, under the store's lock. Tokens never appear in logs
// or errors.
//
// # No event lost
//
// Zalo may not deliver an event again after a 500 (sources disagree on whether it
// retries at all), so a correctly signed event is stored before it is answered: the
// webhook puts the raw body in an Inbox (bot/redisstore) under a Lease of its own,
// answers 500 only when that fails, and otherwise runs the event at once, inside the
// request and within Deadline, so the citizen's reply waits for no poll. When the run
// is done the body is removed, fenced by the lease; a run that fails or takes too long
// leaves it, and so does a process that dies. Run takes such bodies over every few
// seconds, once their lease has run out (one lease period), with the same Lease: no
// second claim scheme. Running an event twice is harmless, since the engine drops an
// event id it has committed.
//
// Staff who answer a citizen in Zalo's own OA chat tool come back as oa_send_* events
// whose sender carries an admin_id; they become bot.EventStaffMessage (the transcript
// keeps the line, the conversation goes to human mode). The OA API's own sends, the
// gateway's replies among them, have no admin_id and are ignored.
package zalo
