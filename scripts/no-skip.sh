#!/usr/bin/env bash
# no-skip.sh fails when a test file calls Skip, Skipf or SkipNow: a test that skips in CI
# proves nothing, so a missing dependency must fail the test instead (make lint runs it).
#
# Usage: scripts/no-skip.sh
set -euo pipefail
cd "$(dirname "$0")/.."

if found=$(git ls-files -z '*_test.go' | xargs -0 grep -nE '\.(Skip|Skipf|SkipNow)\('); then
	echo "no-skip: tests must not skip (fail instead):" >&2
	echo "$found" >&2
	exit 1
fi
