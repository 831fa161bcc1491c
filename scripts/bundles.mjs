// The esbuild entry points, shared by the product build and the unit-test build.
// Every Node bundle lands flat in one folder, so a bundle finds its sibling workers
// (miWorker.js) and the webview bundle (webview.js) through __dirname.
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import * as esbuild from 'esbuild';

/** Native or wasm-carrying packages stay outside the bundles and load from node_modules. */
export const nodeExternals = [
  'vscode',
  'onnxruntime-node',
  '@tensorflow/tfjs-node',
  '@tensorflow/tfjs-backend-wasm',
  // One tfjs-core instance for all TF.js packages: the external wasm/node backends register
  // on the tfjs-core they require, so tfjs itself must load from node_modules too.
  '@tensorflow/tfjs',
  'h5wasm',
];

/** Node-side helper entries that a bundle spawns at run time. */
export const auxNodeEntries = {
  miWorker: 'src/core/mi/miWorker.ts',
  // The extension's analysis child process (forked per job; see src/extension/hostProtocol.ts).
  analysisHost: 'src/extension/analysisHost.ts',
  // The onnxruntime child process of ONNX capture (see src/core/capture/onnx/onnxSession.ts).
  onnxHost: 'src/core/capture/onnx/onnxHost.ts',
};

export const webviewEntries = {
  webview: 'webview-ui/main.ts',
  reportPage: 'webview-ui/reportPage.ts',
};

export async function buildNode(entryPoints, outdir, extra = {}) {
  await esbuild.build({
    entryPoints,
    outdir,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    sourcemap: 'linked',
    external: nodeExternals,
    logLevel: 'warning',
    ...extra,
  });
}

export async function buildWebview(outdir) {
  await esbuild.build({
    entryPoints: webviewEntries,
    outdir,
    bundle: true,
    platform: 'browser',
    target: 'es2022',
    format: 'iife',
    minify: true,
    logLevel: 'warning',
  });
}

/**
 * Compiles the KSG-1 kernel (src/core/measures/ksgKernel.c) to outdir/ksgKernel.wasm with
 * Debian's clang-14 + lld-14 (or $CLANG): wasm32 with SIMD, no libc. Fails the build when the
 * compiler is missing, since the MI workers need the file.
 */
export function buildKsgWasm(outdir) {
  const clang = process.env.CLANG ?? 'clang-14';
  const run = spawnSync(
    clang,
    [
      '--target=wasm32',
      '-O3',
      '-msimd128',
      '-ffreestanding',
      '-nostdlib',
      '-Wall',
      '-Wextra',
      '-Werror',
      '-Wl,--no-entry',
      '-o',
      path.join(outdir, 'ksgKernel.wasm'),
      'src/core/measures/ksgKernel.c',
    ],
    { stdio: 'inherit' },
  );
  if (run.error || run.status !== 0) {
    throw new Error(
      `building ksgKernel.wasm: ${clang} failed (${run.error?.message ?? `exit ${run.status}`}); ` +
        'install it with `apt-get install -y clang-14 lld-14`',
    );
  }
}
