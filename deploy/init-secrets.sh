#!/bin/sh
# Makes the secret files compose.yaml mounts, only those missing, so that the stack
# starts on a fresh clone: each one empty (write a value into those you use, and name
# them in deploy/gateway.env with NAME_FILE), but media_secret and webchat_secret, which
# get a random key.
# The folder is kept to its owner (0700); the files are 0644 because compose mounts
# them as they are and the gateway runs as uid 65532 in its container.
set -eu
cd "$(dirname "$0")/.."
umask 022
chmod 700 deploy/secrets
for name in $(sed -n 's|^ *file: deploy/secrets/||p' compose.yaml); do
	f=deploy/secrets/$name
	[ -e "$f" ] && continue
	if [ "$name" = media_secret ] || [ "$name" = webchat_secret ]; then
		head -c 32 /dev/urandom | base64 >"$f"
	else
		: >"$f"
	fi
	echo "made $f"
done
