// Package webchat is the web chat channel: a page (GET /chat) and a widget any site
// embeds with one script tag (GET /webchat/widget.js) that talk to the engine through a
// small JSON API under /webchat/api/. A browser opens a conversation and gets a signed,
// expiring token naming it; its messages become engine events; the bot's replies are
// kept in a capped per-conversation stream in Redis and read back as server-sent
// events, resumed after a dropped connection from the last id the browser saw.
//
// It has the shape of the other channels: events in (the API), replies out (Sender,
// a bot.Sender the channel's dispatcher calls), and its settings (Settings, EnvVars).
package webchat
