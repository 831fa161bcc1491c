#!/usr/bin/env bash
# Installs the Debian packages the e2e run needs, only those that are missing:
# chromium (the browser Playwright drives), ripgrep (seeds @vscode/ripgrep's download cache)
# and libkrb5-dev (headers for code-server's kerberos module, which builds from source here).
set -euo pipefail
missing=()
for pkg in chromium ripgrep libkrb5-dev; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "e2e: installing apt packages: ${missing[*]}"
  sudo_cmd=()
  [ "$(id -u)" -ne 0 ] && sudo_cmd=(sudo)
  log=$(mktemp)
  # The lock timeout waits for another apt run instead of failing at once.
  if ! { "${sudo_cmd[@]}" apt-get -o DPkg::Lock::Timeout=900 update -qq &&
    DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get -o DPkg::Lock::Timeout=900 install -y -qq "${missing[@]}"; } >"$log" 2>&1; then
    cat "$log"
    rm -f "$log"
    echo "e2e: apt-get install ${missing[*]} failed" >&2
    exit 1
  fi
  rm -f "$log"
fi
