// Package bot holds the channel-agnostic domain of the gateway: the events a channel
// turns a webhook into, the replies the engine queues for a channel to draw, the session
// that carries a citizen's draft between messages, the submission handed to the city's
// intake, and the Engine that runs one event through a conversation atomically.
//
// bot knows no channel, no flow and no Redis detail: it declares the small interfaces it
// consumes (Store, Conversation) and the packages below it implement them.
package bot
