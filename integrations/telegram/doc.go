// Package telegram is the Telegram channel adapter: a webhook that verifies Telegram's
// secret header and turns updates into bot.Events for the engine, a polling loop that
// feeds the same path for local trials, and a Client that draws bot.Replies as Telegram
// messages and classifies failures as *bot.SendError for the delivery queue.
//
// The bot token is part of every Bot API URL, so it leaks into transport errors. Every
// error this package returns or logs has the token replaced by "<token>", and file
// download URLs (which must carry it) are only returned by Client.FileURL, never logged.
package telegram
