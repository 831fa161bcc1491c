#!/usr/bin/env bash
# Installs code-server (VS Code 1.100.3 for the browser) into .vscode-test/code-server,
# once: a marker file written after a successful install makes later runs a no-op.
# Recipe and the reason for every flag: /work/shared/notes/vscode-e2e.md, section 1.
set -euo pipefail
cd "$(dirname "$0")/../.."
version=4.100.3
root=$PWD/.vscode-test
prefix=$root/code-server
marker=$prefix/.installed-$version
if [ -f "$marker" ] && [ -x "$prefix/node_modules/.bin/code-server" ]; then
  exit 0
fi
echo "e2e: installing code-server@$version into $prefix"
start=$(date +%s)
rm -rf "$prefix"
mkdir -p "$prefix" "$root/tmp"
# Its own package.json makes the folder an npm root, so the project's manifest is untouched.
echo '{ "private": true, "description": "code-server for MemLens e2e tests" }' >"$prefix/package.json"
# @vscode/ripgrep's postinstall downloads rg from GitHub; seed its cache with Debian's rg.
rgcache=$root/tmp/vscode-ripgrep-cache-1.15.11
mkdir -p "$rgcache"
cp /usr/bin/rg "$root/tmp/rg"
tar czf "$rgcache/ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz" -C "$root/tmp" rg
log=$root/code-server-install.log
# npm_config_yes: node-pty's postinstall runs `npx node-gyp` (~/.npmrc may say yes=false).
# --unsafe-perm: postinstall scripts must run as root too. TMPDIR keeps /tmp clean.
if ! (cd "$prefix" && TMPDIR=$root/tmp npm_config_yes=true npm install --no-save --no-audit --no-fund \
  --unsafe-perm --foreground-scripts "code-server@$version") >"$log" 2>&1; then
  tail -n 60 "$log"
  echo "e2e: code-server install failed (full log: $log)" >&2
  exit 1
fi
# Its own XDG homes: code-server writes a config and logs there even for --version.
XDG_CONFIG_HOME=$root/tmp/xdg XDG_DATA_HOME=$root/tmp/xdg XDG_CACHE_HOME=$root/tmp/xdg \
  "$prefix/node_modules/.bin/code-server" --version >/dev/null
rm -rf "$root/tmp/xdg" "$root/tmp/rg" "$rgcache"
touch "$marker"
echo "e2e: code-server installed in $(($(date +%s) - start)) s"
