#!/usr/bin/env bash
# Verifies deploy/systemd/resetbot.service with systemd-analyze (syntax, and an exposure score (--threshold is in tenths)
# at most 2.0 on systemd's 0-10 scale), when systemd-analyze exists; says so when it does not.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$(realpath "${1:-bin/resetbot}")
if ! command -v systemd-analyze >/dev/null; then
  echo "systemd-check: NOT CHECKED — systemd-analyze is not installed here"
  exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
sed "s|/usr/local/bin/resetbot|$bin|g" deploy/systemd/resetbot.service > "$tmp/resetbot.service"
systemd-analyze verify "$tmp/resetbot.service"
systemd-analyze security --offline=yes --threshold=20 "$tmp/resetbot.service" | tail -1
