#!/usr/bin/env bash
# Installs what evctl needs on Debian, builds it, and runs `evctl serve` on the default store
# ($XDG_DATA_HOME/evctl/evctl.db, else ~/.local/share/evctl/evctl.db). Extra arguments go to serve.
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
need=()
for pkg in libsqlite3-dev libssl-dev; do dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg"); done
if [ ${#need[@]} -gt 0 ]; then
  as_root apt-get update -qq
  as_root apt-get install -y -qq "${need[@]}"
fi

swift build -c release --product evctl
exec .build/release/evctl serve "$@"
