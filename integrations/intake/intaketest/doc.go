// Package intaketest runs fake city intake servers on 127.0.0.1 for tests: a signed-JSON
// intake that checks requests exactly as docs/intake.md documents them, and an Open311
// GeoReport v2 server. Both can be scripted to fail (5xx, 429 with Retry-After, 400, slow
// answers) and both record what they kept.
package intaketest
