#!/usr/bin/env bash
# with-cluster.sh runs a command with REDIS_URL pointing at a throwaway Redis Cluster.
#
# Three masters (no replicas, no persistence) are started on three free ports of
# 127.0.0.1 in a temporary directory, joined with redis-cli --cluster create, and the
# command runs once the cluster says cluster_state:ok, with
# REDIS_URL=redis://127.0.0.1:p1,127.0.0.1:p2,127.0.0.1:p3 (a cluster URL, as
# bot/redisstore reads it; the tests find the masters through it). Everything is
# stopped and removed when the command ends, whatever its result. Unlike with-redis.sh it ignores a REDIS_URL already set:
# the point is to run against a cluster.
#
# Usage: scripts/with-cluster.sh <command> [args...]
set -euo pipefail

if [[ $# -eq 0 ]]; then
	echo "usage: $0 <command> [args...]" >&2
	exit 2
fi

# shellcheck source=scripts/redis-common.sh
source "$(dirname "$0")/redis-common.sh"
need_redis with-cluster ""
mapfile -t ports < <(free_ports 3)
if [[ ${#ports[@]} -ne 3 ]]; then
	echo "with-cluster: found no three free ports" >&2
	exit 1
fi

dir=$(mktemp -d)
pids=()

stop() {
	for pid in "${pids[@]}"; do
		kill "$pid" 2>/dev/null || true
	done
	for pid in "${pids[@]}"; do
		wait "$pid" 2>/dev/null || true
	done
	rm -rf "$dir"
}
trap stop EXIT

for port in "${ports[@]}"; do
	mkdir "$dir/$port"
	redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no --daemonize no \
		--cluster-enabled yes --cluster-config-file "$dir/$port/nodes.conf" \
		--dir "$dir/$port" --logfile "$dir/$port/redis.log" &
	pids+=($!)
done

for port in "${ports[@]}"; do
	for _ in $(seq 1 100); do
		if redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null | grep -q PONG; then
			break
		fi
		sleep 0.1
	done
	if ! redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null | grep -q PONG; then
		echo "with-cluster: redis-server on port $port does not answer:" >&2
		cat "$dir/$port/redis.log" >&2 || true
		exit 1
	fi
done

nodes=()
for port in "${ports[@]}"; do
	nodes+=("127.0.0.1:$port")
done
if ! redis-cli --cluster create "${nodes[@]}" --cluster-replicas 0 --cluster-yes >"$dir/create.log" 2>&1; then
	echo "with-cluster: redis-cli --cluster create failed:" >&2
	cat "$dir/create.log" >&2
	exit 1
fi

# Every node must see the whole cluster, not only the first one asked.
for port in "${ports[@]}"; do
	for _ in $(seq 1 100); do
		if redis-cli -h 127.0.0.1 -p "$port" cluster info 2>/dev/null | grep -q 'cluster_state:ok'; then
			break
		fi
		sleep 0.1
	done
	if ! redis-cli -h 127.0.0.1 -p "$port" cluster info 2>/dev/null | grep -q 'cluster_state:ok'; then
		echo "with-cluster: the node on port $port never reached cluster_state:ok" >&2
		exit 1
	fi
done

echo "with-cluster: redis-server $(redis-server --version | grep -o 'v=[^ ]*'), three masters on ${nodes[*]}" >&2
export REDIS_URL="redis://$(
	IFS=,
	echo "${nodes[*]}"
)"
# Not exec: the trap must run after the command to stop the servers.
"$@"
