#!/usr/bin/env bash
# Optional: makes @tensorflow/tfjs-node work (the native TF.js backend, and the only way to read
# TF SavedModel folders) without its install-time download of libtensorflow, which fails on a
# closed network. Its N-API addon is compiled from source against the TensorFlow C API inside the
# tensorflow-cpu wheel, which pip fetches from the index it is configured with (on this machine a
# local mirror), or which $TFJS_NODE_WHEEL names. Run after `npm ci`; leaves package.json and the
# lock file alone. About 30 s and 830 MB in node_modules. Without a wheel it says so and exits 0:
# MemLens then runs on wasm and cannot open SavedModels.
set -euo pipefail
cd "$(dirname "$0")/.."
TF_VERSION=2.21.0
PKG=node_modules/@tensorflow/tfjs-node
quiet_tf=(env TF_CPP_MIN_LOG_LEVEL=3 TF_ENABLE_ONEDNN_OPTS=0)
if "${quiet_tf[@]}" node -e "require('@tensorflow/tfjs-node')" >/dev/null 2>&1; then
  echo "tfjs-node: already working"
  exit 0
fi
wheel=${TFJS_NODE_WHEEL:-}
if [ -z "$wheel" ]; then
  mkdir -p .cache/wheels
  if ! compgen -G ".cache/wheels/tensorflow_cpu-$TF_VERSION-*.whl" >/dev/null; then
    python3 -m pip download --quiet --no-deps --only-binary=:all: -d .cache/wheels \
      "tensorflow-cpu==$TF_VERSION" >/dev/null 2>&1 || true
  fi
  wheel=$(compgen -G ".cache/wheels/tensorflow_cpu-$TF_VERSION-*.whl" | head -n 1 || true)
fi
if [ -z "$wheel" ] || [ ! -f "$wheel" ]; then
  echo "tfjs-node: skipped, pip has no tensorflow-cpu $TF_VERSION wheel (MemLens runs on wasm; SavedModels need tfjs-node)"
  exit 0
fi
version=$(node -p "require('./package.json').optionalDependencies['@tensorflow/tfjs-node']")
# The JS package and its dependencies, without its install script (the download).
[ -f "$PKG/package.json" ] ||
  npm install --no-save --ignore-scripts --no-audit --no-fund "@tensorflow/tfjs-node@$version" >/dev/null
# The two shared libraries (the C API is in libtensorflow_cc) and the C headers.
lib=$PKG/deps/wheel/tensorflow
if [ ! -f "$lib/libtensorflow_cc.so.2" ]; then
  rm -rf "$PKG/deps/wheel" && mkdir -p "$PKG/deps/wheel"
  unzip -q -o "$wheel" -d "$PKG/deps/wheel" 'tensorflow/libtensorflow_framework.so.2' \
    'tensorflow/libtensorflow_cc.so.2' 'tensorflow/include/tensorflow/c/*' \
    'tensorflow/include/tensorflow/core/platform/*' 'tensorflow/include/tsl/*' \
    'tensorflow/include/xla/tsl/*'
fi
# The names binding.gyp links (-ltensorflow, rpath deps/lib) and its install check looks for.
mkdir -p "$PKG/deps/lib"
ln -sfn wheel/tensorflow/include "$PKG/deps/include"
for f in libtensorflow_cc.so.2 libtensorflow_framework.so.2; do
  ln -sf "../wheel/tensorflow/$f" "$PKG/deps/lib/$f"
done
ln -sf libtensorflow_cc.so.2 "$PKG/deps/lib/libtensorflow.so"
ln -sf libtensorflow_cc.so.2 "$PKG/deps/lib/libtensorflow.so.2.9.1"
ln -sf libtensorflow_framework.so.2 "$PKG/deps/lib/libtensorflow_framework.so"
# The addon, against Node's own headers (node-gyp would otherwise download them).
nodedir=$(dirname "$(dirname "$(command -v node)")")
[ -f "$nodedir/include/node/node_api.h" ] || nodedir=/usr
(cd "$PKG" && npm_config_nodedir=$nodedir ../../.bin/node-pre-gyp install --build-from-source \
  --loglevel=warn >/dev/null)
"${quiet_tf[@]}" node -e "const tf = require('@tensorflow/tfjs-node');
console.log('tfjs-node: working,', tf.version['tfjs-node'], 'on TensorFlow', tf.backend().binding.TF_Version)"
