# redis-common.sh is sourced by with-redis.sh and with-cluster.sh: how they make sure
# redis-server is there and pick free ports.

# need_redis installs redis-server with apt-get when it is missing and this is root on
# Debian, else fails; $1 names the script in its messages, $2 is a hint to add.
need_redis() {
	if command -v redis-server >/dev/null && command -v redis-cli >/dev/null; then
		return 0
	fi
	if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
		echo "$1: installing redis-server with apt-get" >&2
		export DEBIAN_FRONTEND=noninteractive
		apt-get update -qq >&2
		apt-get install -y -qq redis-server >&2
	else
		echo "$1: redis-server is not installed and cannot be installed here." >&2
		echo "  Install it (apt-get install redis-server, brew install redis)$2." >&2
		exit 1
	fi
}

# port_in_use reports whether something accepts connections on 127.0.0.1:$1.
port_in_use() {
	(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# free_ports prints $1 distinct free ports of 127.0.0.1, one a line, each with port +
# 10000 free too (a cluster node's bus), or fails. They are taken below the kernel's
# ephemeral range, where the tests' own outgoing connections could take a port between
# this check and the server's bind ("Address already in use").
free_ports() {
	local want=$1 low=32768 candidate p
	local -a found=()
	if [[ -r /proc/sys/net/ipv4/ip_local_port_range ]]; then
		read -r low _ </proc/sys/net/ipv4/ip_local_port_range
	fi
	if ((low < 12000)); then
		low=32768
	fi
	for _ in $(seq 1 100); do
		candidate=$((1024 + RANDOM % (low - 10000 - 1024)))
		if port_in_use "$candidate" || port_in_use $((candidate + 10000)); then
			continue
		fi
		for p in "${found[@]}"; do
			if ((p == candidate || p == candidate + 10000 || p + 10000 == candidate)); then
				continue 2
			fi
		done
		found+=("$candidate")
		if ((${#found[@]} == want)); then
			printf '%s\n' "${found[@]}"
			return 0
		fi
	done
	return 1
}
