#!/usr/bin/env bash
# Checks the compose staging demo without a container runtime: starts slapd with
# deploy/compose/slapd's configuration and seed, and redis-server, on loopback ports, then runs
# `resetbot check-config` (directory bind + search, Redis PING) on deploy/compose/resetbot.yaml
# with the service addresses overridden from the environment. What it cannot check: the images
# (deploy/compose/slapd/Containerfile, redis), the compose network and health checks.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-bin/resetbot}
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null \
  || echo $((20000 + RANDOM % 20000)); }
slapd=$(command -v slapd || echo /usr/sbin/slapd)
slapadd=$(command -v slapadd || echo /usr/sbin/slapadd)

mkdir -p "$work/db" "$work/run"
sed -e "s|/var/lib/ldap|$work/db|" -e "s|/run/slapd|$work/run|" deploy/compose/slapd/slapd.conf > "$work/slapd.conf"
"$slapadd" -q -f "$work/slapd.conf" -l deploy/compose/slapd/seed.ldif
lport=$(port)
"$slapd" -d 0 -h "ldap://127.0.0.1:$lport/" -f "$work/slapd.conf" 2>"$work/slapd.log" &
pids+=($!)
rport=$(port)
redis-server --port "$rport" --bind 127.0.0.1 --save "" --appendonly no >"$work/redis.log" 2>&1 &
pids+=($!)
for _ in $(seq 50); do
  if ldapsearch -x -H "ldap://127.0.0.1:$lport/" -b "" -s base >/dev/null 2>&1 && redis-cli -p "$rport" ping >/dev/null 2>&1; then
    break
  fi
  sleep 0.2
done
RESETBOT_STORE__REDIS__ADDRS__0="127.0.0.1:$rport" \
RESETBOT_DIRECTORIES__0__LDAP__URL="ldap://127.0.0.1:$lport" \
  "$bin" check-config -config deploy/compose/resetbot.yaml
echo "compose-check: the staging config binds to the seeded slapd and reaches Redis"
