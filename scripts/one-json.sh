#!/usr/bin/env bash
# one-json.sh fails when a Go file imports encoding/json: the project's JSON goes through
# github.com/go-json-experiment/json/v1, encoding/json's API and behaviour on the v2
# engine (what encoding/json becomes with GOEXPERIMENT=jsonv2), about twice as fast to
# decode with a fifth of the allocations. One package for it, so that a RawMessage or an
# error type means the same everywhere (make lint runs it).
#
# Usage: scripts/one-json.sh
set -euo pipefail
cd "$(dirname "$0")/.."

if found=$(git ls-files -z '*.go' | xargs -0 grep -nE '^\s*(import\s+)?(\w+\s+)?"encoding/json"'); then
	echo "one-json: import github.com/go-json-experiment/json/v1 as json instead of encoding/json:" >&2
	echo "$found" >&2
	exit 1
fi
