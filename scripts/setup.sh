#!/usr/bin/env bash
# Sets up a checkout: the Debian packages the build needs, then the npm packages.
# clang-14 and lld-14 compile the MI kernel (src/core/measures/ksgKernel.c) to WebAssembly;
# elsewhere than Debian/Ubuntu only npm ci runs.
set -euo pipefail
cd "$(dirname "$0")/.."
if command -v apt-get >/dev/null 2>&1 && command -v dpkg-query >/dev/null 2>&1; then
  scripts/ensureSystemPackages.sh clang-14 lld-14
else
  # macOS, Windows (Git Bash), other Linux: no Debian packages. Without clang the build skips
  # ksgKernel.wasm and the MI workers run the TypeScript kernel (CONTRIBUTING.md; CLANG=...).
  echo "setup: no apt-get: not installing clang-14/lld-14 (see CONTRIBUTING.md, 'The MI kernel without clang')"
fi
export ONNXRUNTIME_NODE_INSTALL=skip # else onnxruntime-node fetches CUDA/TensorRT EPs from NuGet
npm ci --no-audit --no-fund
