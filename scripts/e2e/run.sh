#!/usr/bin/env bash
# `npm run test:e2e`: MemLens in a real VS Code (code-server 4.100.3 = VS Code 1.100.3) driven
# by a real browser (Debian chromium through playwright-core). Everything it starts runs in its
# own process group, and the EXIT trap kills every group, so no exit path leaves anything running.
#
# 1. installs code-server once into .vscode-test/code-server (scripts/e2e/installCodeServer.sh);
# 2. builds the product (npm run build), packages the .vsix (npm run package) and the tests;
# 3. extension-host run: a server with an empty extensions dir; the payload loads the extension
#    unpacked from the .vsix as the extension under development and runs test/vscode/ in the
#    real extension host (result through codeAutomationExit);
# 4. browser run: a fresh server with the .vsix installed in its extensions dir; Playwright uses
#    it as a user would (scripts/e2e/userFlowDriver.ts). Screenshots land in artifacts/.
# The two runs are separate servers with separate extension, user-data and workspace folders,
# so two copies of the extension never run at once.
# Prints a summary whose last line is `N passed, N failed`, also written to .vscode-test/e2e-summary.
#
# Arguments choose what runs (default: everything): names of extension-host suites
# (test/vscode/<name>.test.ts, e.g. `npm run test:e2e -- analyze panel`, run alone in that order)
# and/or `browser` for the browser run. MEMLENS_E2E_GREP=<regex> keeps only the extension-host
# tests whose full title matches. MEMLENS_E2E_PYTHON=<path> is the Python with torch that runs
# the workspace's PyTorch files (default /usr/bin/python3).
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD

# What to run, from the arguments.
suites=()
runExthost=1
runBrowser=1
if [ "$#" -gt 0 ]; then
  runExthost=0
  runBrowser=0
  for name in "$@"; do
    if [ "$name" = browser ]; then
      runBrowser=1
    elif [ -f "test/vscode/$name.test.ts" ]; then
      suites+=("$name")
      runExthost=1
    else
      known=$(cd test/vscode && ls -- *.test.ts | sed 's/\.test\.ts$//' | tr '\n' ' ')
      echo "e2e: no suite '$name': expected browser or one of: $known" >&2
      exit 2
    fi
  done
fi
suiteList=$(IFS=,; echo "${suites[*]}")

vt=$root/.vscode-test
# The runs' folders (profiles, extensions, XDG homes, TMPDIR, workspaces) live outside the project:
# inside it, Node would resolve a module missing from the installed .vsix from the project's
# node_modules and hide the defect. They are removed at exit; logs are kept in .vscode-test/last-run.
tmpBase=${TMPDIR:-/tmp}
case "$tmpBase/" in "$root"/*) tmpBase=/tmp ;; esac
runs=$(mktemp -d "$tmpBase/memlens-e2e.XXXXXX")
lastRun=$vt/last-run
codeServer=$vt/code-server/node_modules/.bin/code-server
summary=$vt/e2e-summary
started=$(date +%s)

groups=()
# Kills the process group whose leader's pid is in $1 (a file), politely then for good.
stop_group() {
  local pgid
  pgid=$(cat "$1" 2>/dev/null) || return 0
  [ -n "$pgid" ] || return 0
  kill -TERM -- "-$pgid" 2>/dev/null || { rm -f "$1"; return 0; }
  for _ in $(seq 50); do
    kill -0 -- "-$pgid" 2>/dev/null || { rm -f "$1"; return 0; }
    sleep 0.1
  done
  kill -KILL -- "-$pgid" 2>/dev/null || true
  rm -f "$1"
}
cleanup() {
  local status=$?
  # Newest first: a driver ends before the server it talks to.
  local i
  for ((i = ${#groups[@]} - 1; i >= 0; i--)); do stop_group "${groups[i]}"; done
  rm -rf "$lastRun"
  for r in "$runs"/*/; do
    [ -d "$r" ] || continue
    mkdir -p "$lastRun/$(basename "$r")"
    cp "$r"/*.log "$r"/*.txt "$lastRun/$(basename "$r")/" 2>/dev/null || true
    cp -r "$r/user-data/logs" "$lastRun/$(basename "$r")/vscode-logs" 2>/dev/null || true
  done
  rm -rf "$runs"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Starts "$@" as the leader of a new session and process group; its pgid goes to file $1.
# setsid -w waits for the command, so `wait` on the background job gives its exit status.
start_group() {
  local pidfile=$1
  shift
  groups+=("$pidfile")
  setsid -w bash -c 'echo $$ >"$0.tmp" && mv "$0.tmp" "$0"; exec "$@"' "$pidfile" "$@" &
  # Until the pgid is on file, the cleanup could not stop the group: wait for it.
  for _ in $(seq 1000); do
    [ -s "$pidfile" ] && return 0
    sleep 0.01
  done
  echo "e2e: could not start $1" >&2
  return 1
}

echo "e2e: start $(date -u +%H:%M:%S) UTC"
mkdir -p "$vt" && rm -f "$summary"
# chromium (the browser Playwright drives), ripgrep (seeds @vscode/ripgrep's download cache),
# libkrb5-dev (headers for code-server's kerberos module, which builds from source here).
scripts/ensureSystemPackages.sh chromium ripgrep libkrb5-dev
scripts/e2e/installCodeServer.sh
npm run --silent build
npm run --silent package
node scripts/e2e/buildE2e.mjs
vsix=$(node -p "const p=require('./package.json'); p.name + '-' + p.version + '.vsix'")
extId=$(node -p "const p=require('./package.json'); p.publisher + '.' + p.name")

# The Python that runs the workspace's PyTorch files (needs torch): the workspace's
# memlens.pythonPath is set to it, and it runs torch/train.py. Debian's python3-torch is for
# /usr/bin/python3 (the python3 on PATH may lack torch).
python=${MEMLENS_E2E_PYTHON:-/usr/bin/python3}

# torch/mlp_state.pt is not kept in git: torch/train.py (deterministic seeds) writes it, once per
# e2e run, in a copy of test/e2e-workspace/torch; prepare_run copies it into each workspace.
torchState=
train_torch() {
  [ -z "$torchState" ] || return 0
  local dir=$runs/torch-train
  mkdir -p "$dir"
  cp -r test/e2e-workspace/torch "$dir/torch"
  echo "e2e: training torch/train.py with $python"
  (cd "$dir/torch" && PYTHONDONTWRITEBYTECODE=1 "$python" train.py) >"$dir/train.log" 2>&1 || {
    cat "$dir/train.log"
    echo "e2e: torch/train.py failed under $python (set MEMLENS_E2E_PYTHON to a Python with torch)" >&2
    return 1
  }
  torchState=$dir/torch/mlp_state.pt
}

# Fresh folders for one server run: profile, extensions, XDG homes, TMPDIR and a workspace copied
# from test/e2e-workspace (its links to examples/ dereferenced), so runs never share state.
prepare_run() {
  local dir=$runs/$1
  rm -rf "$dir"
  mkdir -p "$dir"/{user-data/User,extensions,config,data,cache,tmp,chromium}
  # No welcome page or walkthrough: the tests start from the plain workbench.
  echo '{ "workbench.startupEditor": "none" }' >"$dir/user-data/User/settings.json"
  cp -rL test/e2e-workspace "$dir/workspace"
  train_torch
  cp "$torchState" "$dir/workspace/torch/mlp_state.pt"
  node -e 'const fs = require("fs"), [file, python] = process.argv.slice(1);
    const s = JSON.parse(fs.readFileSync(file, "utf8"));
    fs.writeFileSync(file, JSON.stringify({ ...s, "memlens.pythonPath": python }, null, 2) + "\n");' \
    "$dir/workspace/.vscode/settings.json" "$python"
}

# The environment of every process of run $1 (into the array runEnv): nothing is written to
# $HOME or /tmp. Variables the tests read must be set on the server: the extension host inherits them.
set_run_env() {
  local dir=$runs/$1
  runEnv=("XDG_CONFIG_HOME=$dir/config" "XDG_DATA_HOME=$dir/data" "XDG_CACHE_HOME=$dir/cache"
    "TMPDIR=$dir/tmp" "MEMLENS_E2E_RESULTS=$dir/results.txt" "MEMLENS_E2E_WORKSPACE=$dir/workspace"
    "MEMLENS_E2E_SUITES=$suiteList" "MEMLENS_E2E_GREP=${MEMLENS_E2E_GREP:-}"
    "MEMLENS_E2E_SLURM_SCRIPT=$root/scripts/slurmLocal.sh")
}

# Installs the .vsix as a user would (`code-server --install-extension`) into extensions dir $2.
install_vsix() {
  local dir=$runs/$1
  set_run_env "$1"
  env "${runEnv[@]}" "$codeServer" --config "$dir/config/config.yaml" --user-data-dir "$dir/user-data" \
    --extensions-dir "$2" --install-extension "$vsix" >"$dir/install.log" 2>&1 ||
    { cat "$dir/install.log"; return 1; }
}

# Starts the server of run $1 on a free port; sets $base to its URL once /healthz answers.
start_server() {
  local name=$1 dir=$runs/$1
  set_run_env "$name"
  start_group "$dir/server.pgid" env "${runEnv[@]}" "$codeServer" \
    --config "$dir/config/config.yaml" --user-data-dir "$dir/user-data" \
    --extensions-dir "$dir/extensions" --bind-addr 127.0.0.1:0 --auth none \
    --disable-telemetry --disable-update-check --disable-workspace-trust \
    "$dir/workspace" >"$dir/server.log" 2>&1
  base=
  for _ in $(seq 300); do
    base=$(sed -n 's|.*HTTP server listening on \(http://127\.0\.0\.1:[0-9]*\)/.*|\1|p' "$dir/server.log")
    if [ -n "$base" ] && node -e "fetch('$base/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"; then
      echo "e2e: $name server at $base"
      return 0
    fi
    sleep 0.1
  done
  cat "$dir/server.log"
  echo "e2e: the $name server did not start within 30 s" >&2
  return 1
}

# Runs a driver in its own process group (Chromium is its child) and returns its exit status.
run_driver() {
  local name=$1 dir=$runs/$1
  shift
  set_run_env "$name"
  start_group "$dir/driver.pgid" env "${runEnv[@]}" node "$@"
  local status=0
  wait $! || status=$?
  return "$status"
}

status=0

# --- extension-host tests -----------------------------------------------------------------
if [ "$runExthost" -eq 1 ]; then
  prepare_run exthost
  # The extension under test is the packaged one: code-server unpacks the .vsix into a folder
  # that the server does not scan (its --extensions-dir stays empty).
  install_vsix exthost "$runs/exthost/packaged"
  devPath=$(echo "$runs"/exthost/packaged/"$extId"-*)
  start_server exthost
  t0=$(date +%s)
  run_driver exthost out/e2e/extensionHostDriver.js --base "$base" \
    --workspace "$runs/exthost/workspace" --extension "$devPath" \
    --tests "$root/out/e2e/suite/index.js" --results "$runs/exthost/results.txt" \
    --profile "$runs/exthost/chromium" --log "$runs/exthost/browser-console.log" || status=1
  stop_group "$runs/exthost/server.pgid"
  echo "e2e: extension-host tests took $(($(date +%s) - t0)) s"
fi

# --- browser test as a user -----------------------------------------------------------------
if [ "$runBrowser" -eq 1 ]; then
  prepare_run browser
  install_vsix browser "$runs/browser/extensions"
  start_server browser
  t0=$(date +%s)
  mkdir -p artifacts
  run_driver browser out/e2e/userFlowDriver.js --base "$base" \
    --workspace "$runs/browser/workspace" --results "$runs/browser/results.txt" \
    --artifacts "$root/artifacts" --profile "$runs/browser/chromium" \
    --log "$runs/browser/browser-console.log" || status=1
  stop_group "$runs/browser/server.pgid"
  echo "e2e: browser test took $(($(date +%s) - t0)) s"
fi

# --- summary --------------------------------------------------------------------------------
count() { sed -n "s/^\([0-9]*\) passed, \([0-9]*\) failed$/\\$2/p" "$1" 2>/dev/null | tail -n 1; }
passed=0
failed=0
ran=()
[ "$runExthost" -eq 0 ] || ran+=(exthost)
[ "$runBrowser" -eq 0 ] || ran+=(browser)
for r in "${ran[@]}"; do
  p=$(count "$runs/$r/results.txt" 1)
  f=$(count "$runs/$r/results.txt" 2)
  if [ -z "$p" ]; then
    echo "e2e: $r run reported no result"
    p=0
    f=1
  fi
  passed=$((passed + p))
  failed=$((failed + f))
done
[ "$failed" -eq 0 ] || status=1
echo "e2e: done in $(($(date +%s) - started)) s"
echo "$passed passed, $failed failed" | tee "$summary"
exit "$status"
