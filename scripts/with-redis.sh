#!/usr/bin/env bash
# with-redis.sh runs a command with REDIS_URL pointing at a real Redis server.
#
# When REDIS_URL is set, the command runs against it. Otherwise a throwaway redis-server
# (no persistence) is started on a free port of 127.0.0.1 and stopped when the command
# ends, whatever its result. redis-server is installed with apt-get when it is missing
# and we are root; otherwise the script fails and says what to do. It never falls back
# to an in-process imitation.
#
# Usage: scripts/with-redis.sh <command> [args...]
set -euo pipefail

if [[ $# -eq 0 ]]; then
	echo "usage: $0 <command> [args...]" >&2
	exit 2
fi

if [[ -n "${REDIS_URL:-}" ]]; then
	echo "with-redis: using REDIS_URL from the environment" >&2
	exec "$@"
fi

# shellcheck source=scripts/redis-common.sh
source "$(dirname "$0")/redis-common.sh"
need_redis with-redis " or set REDIS_URL"
port=$(free_ports 1) || {
	echo "with-redis: found no free port" >&2
	exit 1
}

dir=$(mktemp -d)
redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no --daemonize no \
	--dir "$dir" --logfile "$dir/redis.log" &
pid=$!

stop() {
	kill "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	rm -rf "$dir"
}
trap stop EXIT

for _ in $(seq 1 100); do
	if redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null | grep -q PONG; then
		break
	fi
	if ! kill -0 "$pid" 2>/dev/null; then
		echo "with-redis: redis-server did not start:" >&2
		cat "$dir/redis.log" >&2 || true
		exit 1
	fi
	sleep 0.1
done
if ! redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null | grep -q PONG; then
	echo "with-redis: redis-server on port $port does not answer" >&2
	exit 1
fi

echo "with-redis: redis-server $(redis-server --version | grep -o 'v=[^ ]*') on 127.0.0.1:$port" >&2
export REDIS_URL="redis://127.0.0.1:$port/0"
# Not exec: the trap must run after the command to stop the server.
"$@"
