// Package flows is the bot's conversation: the Router that bot.Engine calls for every
// event, the global commands and keywords that work at any step, and the flows a citizen
// walks through (initiative proposal, feedback), each a looplab/fsm machine whose
// transition table is data and whose steps carry their own validators.
//
// A machine is rebuilt for every event from the step stored in the session
// (State.Step), so step names are stable strings: they live in Redis between messages.
// The machine is the only thing that moves State.Step: answers, edits from the review,
// "back" and the submit's missing-contact safety net are all events of its table.
// Pending yes/no questions are one table too (pending.go).
//
// While an operator has the conversation (human mode) the bot stays silent except for
// forget me, stop, subscribe, language, help and cancel, which hands the conversation
// back to the bot (human.go).
//
// Reference numbers ("SK-2026-000123") never repeat but can have gaps: the counter is
// taken before the submission is committed, so a failed commit or a crash uses up a
// number (submit.go).
package flows
