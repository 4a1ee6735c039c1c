// Package intake hands confirmed submissions to the city's system of record.
//
// Each client implements bot.Intake, which the outbox worker calls with every submission
// it claims. A submission may be delivered more than once (a worker died after delivering
// and before acknowledging), so each is keyed by its stable ID:
//
//   - FileSink appends the submission document to a local JSONL file, once per ID.
//   - JSONClient posts the same document, signed (Sign, Verify), with the ID as
//     Idempotency-Key; the intake keeps one per key.
//   - Open311Client files an Open311 GeoReport v2 service request. GeoReport has no
//     idempotency key: the ID travels as attribute[submission_id] for the server to
//     deduplicate on.
//
// The HTTP clients report failures as *bot.SendError, so the worker tells a retry (network,
// timeout, 408, 5xx), a wait (429, Retry-After) and a permanent refusal (other 4xx) apart.
// docs/intake.md is the contract for the intake's side.
package intake
