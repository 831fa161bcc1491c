#!/usr/bin/env bash
# Sets up a checkout: the Debian packages the build needs, then the npm packages.
# clang-14 and lld-14 compile the MI kernel (src/core/measures/ksgKernel.c) to WebAssembly.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/ensureSystemPackages.sh clang-14 lld-14
export ONNXRUNTIME_NODE_INSTALL=skip # else onnxruntime-node fetches CUDA/TensorRT EPs from NuGet
npm ci --no-audit --no-fund
