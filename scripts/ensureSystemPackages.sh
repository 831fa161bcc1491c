#!/usr/bin/env bash
# Installs the Debian packages named as arguments, only those that are missing (apt-get, with
# sudo when not root). Used by scripts/setup.sh, .ci/run and scripts/e2e/run.sh.
set -euo pipefail
missing=()
for pkg in "$@"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "installing Debian packages: ${missing[*]}"
  sudo_cmd=()
  [ "$(id -u)" -ne 0 ] && sudo_cmd=(sudo)
  log=$(mktemp)
  # The lock timeout waits for another apt run instead of failing at once.
  if ! { "${sudo_cmd[@]}" apt-get -o DPkg::Lock::Timeout=900 update -qq &&
    DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get -o DPkg::Lock::Timeout=900 install -y -qq "${missing[@]}"; } >"$log" 2>&1; then
    cat "$log"
    rm -f "$log"
    echo "apt-get install ${missing[*]} failed" >&2
    exit 1
  fi
  rm -f "$log"
fi
