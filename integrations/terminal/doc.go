// Package terminal is the terminal channel: a citizen's conversation typed in a
// terminal, for trials. Like the other channels it parses input into bot.Events for the
// engine and draws bot.Replies, here as text with numbered choices; the engine answers
// it directly (bot.EngineConfig.Direct) instead of through a delivery queue. Its own
// lines (banner, hints, refused input, the end line) live in locales like every other
// text and follow the citizen's language.
//
// WatchedIntake wraps the intake the outbox worker delivers to, so that a chat can wait
// at its end for its submissions to be written before the program exits.
package terminal
