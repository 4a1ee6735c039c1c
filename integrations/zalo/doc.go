// Package zalo is the Zalo Official Account channel adapter: a webhook that verifies
// Zalo's X-ZEvent-Signature and turns events into bot.Events for the engine, and a
// Client that draws bot.Replies as consultation ("cs") messages of the OA API v3 and
// classifies failures as *bot.SendError for the delivery queue.
//
// Zalo's access tokens last about 25 hours and are renewed with a refresh token that is
// single-use: each refresh returns a new pair and voids the old refresh token. Two
// processes refreshing at once would each burn the other's token, so the pair lives in a
// TokenStore shared by every gateway process (bot/redisstore implements it) and exactly
// one refresh is in flight at a time, under the store's lock. Tokens never appear in logs
// or errors.
package zalo
