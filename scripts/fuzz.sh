#!/usr/bin/env bash
# fuzz.sh runs every fuzz target of the module, one after the other (go test -fuzz takes
# one target a run), each for FUZZTIME (default 60s), and prints one line per target:
# package, target, executions. The targets are found with go test -list, so a new
# FuzzX in any package's fuzz_test.go is run without editing a list here.
#
# A failing target writes its input to the package's testdata/fuzz/FuzzX/ (keep it: it
# becomes a seed once the bug is fixed); the other targets still run, and the script
# fails at the end naming the failures. FUZZMINIMIZE bounds the minimizing of each new
# input (default 2s: go's default, 60s, can spend a short run on minimizing one input
# of a large seed). PKGS picks the packages (default ./...).
#
# Usage: FUZZTIME=10s scripts/fuzz.sh
set -euo pipefail
cd "$(dirname "$0")/.."

FUZZTIME=${FUZZTIME:-60s}
FUZZMINIMIZE=${FUZZMINIMIZE:-2s}
PKGS=${PKGS:-./...}
GO=${GO:-go}
module=$($GO list -m)

# go test -list prints a package's matching names, then its "ok  <package>" line.
targets=()
names=()
while IFS= read -r line; do
	case $line in
	Fuzz*) names+=("$line") ;;
	ok*)
		pkg=$(awk '{print $2}' <<<"$line")
		for n in "${names[@]}"; do
			targets+=("$pkg $n")
		done
		names=()
		;;
	FAIL* | panic:*)
		echo "fuzz: listing the targets failed: $line" >&2
		exit 1
		;;
	esac
done < <($GO test -list '^Fuzz' $PKGS 2>&1)
if [[ ${#targets[@]} -eq 0 ]]; then
	echo "fuzz: no fuzz targets found in $PKGS" >&2
	exit 1
fi
echo "fuzz: ${#targets[@]} targets, $FUZZTIME each"

log=$(mktemp)
trap 'rm -f "$log"' EXIT
summary=()
failed=()
for t in "${targets[@]}"; do
	read -r pkg name <<<"$t"
	status=ok
	fuzz() { $GO test -run '^$' -fuzz "^${name}\$" -fuzztime "$FUZZTIME" -fuzzminimizetime "$FUZZMINIMIZE" "$pkg" >"$log" 2>&1; }
	ok=true
	fuzz || ok=false
	# go's fuzzing engine can end a run with "context deadline exceeded" and no failing
	# input when a worker answers late as the time runs out (seen on a loaded machine):
	# that is no finding, and the target runs once more.
	if ! $ok && grep -q 'context deadline exceeded' "$log" && ! grep -q 'Failing input written' "$log"; then
		echo "fuzz: $name ended with the engine's deadline and no failing input; running it again"
		ok=true
		fuzz || ok=false
	fi
	if ! $ok; then
		status=FAILED
		failed+=("$pkg $name")
		cat "$log"
	fi
	# go prints "fuzz: elapsed: 10s, execs: 123456 (12345/sec), ..." as it goes; the last is the total.
	execs=$(grep -o 'execs: [0-9]*' "$log" | tail -n 1 | awk '{print $2}' || true)
	line=$(printf '%-24s %-20s %10s execs  %s' "./${pkg#"$module"/}" "$name" "${execs:-?}" "$status")
	echo "$line"
	summary+=("$line")
done

echo
echo "fuzz: summary ($FUZZTIME a target)"
printf '%s\n' "${summary[@]}"
if [[ ${#failed[@]} -gt 0 ]]; then
	echo "fuzz: ${#failed[@]} targets failed; their inputs are in testdata/fuzz/ of their packages:" >&2
	printf '  %s\n' "${failed[@]}" >&2
	exit 1
fi
