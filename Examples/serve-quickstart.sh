#!/usr/bin/env bash
# The first command to run: checks for Swift, installs what evctl needs on Debian, builds it,
# installs the binary where the tour expects it (~/.local/bin/evctl, or $EVCTL_BIN_DIR/evctl), and
# runs `evctl serve --demo` in the foreground on the default store ($XDG_DATA_HOME/evctl/evctl.db,
# else ~/.local/share/evctl/evctl.db): it first creates the demo-… site, stations, user and token
# that `evctl simulate --demo` plays in a second terminal (`evctl simulate --demo --remove` deletes
# them). Extra arguments go to serve. Ctrl-C stops it.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v swift >/dev/null 2>&1; then
  cat >&2 <<'MSG'
error: 'swift' was not found on PATH; evctl needs a Swift 6 toolchain to build.
hint: install it from https://www.swift.org/install/linux/ (the 'swiftly' installer, or the
      tarball for your distribution), add its usr/bin to PATH, open a new shell and run this again.
MSG
  exit 69
fi

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
need=()
for pkg in libsqlite3-dev libssl-dev libpq-dev libcurl4-openssl-dev; do dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg"); done
if [ ${#need[@]} -gt 0 ]; then
  as_root apt-get update -qq
  as_root apt-get install -y -qq "${need[@]}"
fi

swift build -c release --product evctl
bin_dir="${EVCTL_BIN_DIR:-$HOME/.local/bin}"
mkdir -p "$bin_dir"
install -m 0755 .build/release/evctl "$bin_dir/evctl"
echo "evctl installed as $bin_dir/evctl" >&2
case ":$PATH:" in
  *":$bin_dir:"*) ;;
  *) echo "note: $bin_dir is not on your PATH; in the second terminal run: export PATH=\"$bin_dir:\$PATH\"" >&2 ;;
esac
echo "serve runs in the foreground here (Ctrl-C stops it): open a second terminal for the tour," >&2
echo "and run 'evctl simulate --demo' there to watch two demo stations boot, charge and stop." >&2
exec "$bin_dir/evctl" serve --demo "$@"
