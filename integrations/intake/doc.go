// Package intake hands confirmed submissions to the city's system of record.
//
// Each client implements bot.Intake, which the outbox worker calls with every submission
// it claims; a submission may be delivered more than once (a worker died after delivering
// and before acknowledging), so each client keeps it once by its stable ID. For now there
// is FileSink, which appends to a local JSONL file; the HTTP clients (signed JSON,
// Open311 GeoReport v2) come later.
package intake
