# ports.sh is sourced by with-redis.sh and with-cluster.sh: how they pick free ports.

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
