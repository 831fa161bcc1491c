// The esbuild entry points, shared by the product build and the unit-test build.
// Every Node bundle lands flat in one folder, so a bundle finds its sibling workers
// (miWorker.js) and the webview bundle (webview.js) through __dirname.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
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
  // The extension's analysis child process (forked per job; see src/extension/child/protocol.ts).
  analysisHost: 'src/extension/child/analysisHost.ts',
  // The onnxruntime child process of ONNX capture (see src/core/capture/onnx/onnxSession.ts).
  onnxHost: 'src/core/capture/onnx/onnxHost.ts',
};

export const webviewEntries = {
  webview: 'webview-ui/main.ts',
  reportPage: 'webview-ui/reportPage.ts',
};

/** The product's Node bundles (dist/): the CLI, the extension, the benchmark and the helpers. */
export function productNodeEntries() {
  const optional = (name, file) => (existsSync(file) ? { [name]: file } : {});
  return {
    cli: 'src/cli/main.ts',
    ...optional('extension', 'src/extension/host/extension.ts'),
    ...optional('bench', 'bench/bench.ts'),
    ...auxNodeEntries,
  };
}

/** esbuild options of the Node bundles (shared by buildNode and scripts/watch.mjs). */
export function nodeOptions(entryPoints, outdir, extra = {}) {
  return {
    entryPoints,
    outdir,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    sourcemap: 'linked',
    external: nodeExternals,
    // The PyTorch capture script ships inside the bundle and runs as `python -c`.
    loader: { '.py': 'text' },
    logLevel: 'warning',
    ...extra,
  };
}

/** esbuild options of the webview bundles (shared by buildWebview and scripts/watch.mjs). */
export function webviewOptions(outdir) {
  return {
    entryPoints: webviewEntries,
    outdir,
    bundle: true,
    platform: 'browser',
    target: 'es2022',
    format: 'iife',
    minify: true,
    logLevel: 'warning',
  };
}

export async function buildNode(entryPoints, outdir, extra = {}) {
  await esbuild.build(nodeOptions(entryPoints, outdir, extra));
}

export async function buildWebview(outdir) {
  await esbuild.build(webviewOptions(outdir));
}

/** clang's flags for the kernel: wasm32 with SIMD, no libc, warnings are errors. */
const wasmFlags = [
  '--target=wasm32',
  '-O3',
  '-msimd128',
  '-ffreestanding',
  '-nostdlib',
  '-Wall',
  '-Wextra',
  '-Werror',
  '-Wl,--no-entry',
];

/**
 * Compiles the KSG-1 kernel (src/core/measures/ksgKernel.c) to outdir/ksgKernel.wasm with
 * Debian's clang-14 + lld-14 (else a plain `clang`), or $CLANG (any clang with the wasm32
 * target) and, when its wasm-ld is not found beside it, $WASM_LD (a path to wasm-ld). Without a
 * compiler that can target wasm32 (macOS's and Windows' usual set-up), prints one warning line,
 * removes a stale outdir/ksgKernel.wasm and skips: the MI workers then run the TypeScript
 * kernel (src/core/mi/kernel.ts), which gives the same values more slowly. An error in the C
 * source still fails the build. Returns whether the .wasm was built.
 */
export function buildKsgWasm(outdir) {
  const candidates = process.env.CLANG ? [process.env.CLANG] : ['clang-14', 'clang'];
  const ld = process.env.WASM_LD ? [`-fuse-ld=${path.resolve(process.env.WASM_LD)}`] : [];
  const out = path.join(outdir, 'ksgKernel.wasm');
  // First a one-line program: when even that fails, the toolchain is missing or cannot target
  // wasm32 (no wasm-ld, say), which is not the kernel's fault.
  const probeDir = mkdtempSync(path.join(tmpdir(), 'memlens-clang-'));
  let clang = null;
  const why = [];
  try {
    for (const cc of candidates) {
      const probe = spawnSync(
        cc,
        [...wasmFlags, ...ld, '-x', 'c', '-', '-o', path.join(probeDir, 'probe.wasm')],
        { input: 'int probe(int x) { return x + 1; }\n', encoding: 'utf8' },
      );
      if (!probe.error && probe.status === 0) {
        clang = cc;
        break;
      }
      why.push(
        probe.error
          ? `${cc} not found`
          : `${cc} cannot build wasm32 (${firstLine(probe.stderr) || `exit ${probe.status}`})`,
      );
    }
  } finally {
    rmSync(probeDir, { recursive: true, force: true });
  }
  if (clang === null) {
    rmSync(out, { force: true });
    console.warn(
      `warning: ksgKernel.wasm not built (${why.join('; ')}): the MI workers will run the ` +
        'TypeScript kernel, same values, slower; CLANG=/path/to/clang (WASM_LD=/path/to/wasm-ld) picks another LLVM',
    );
    return false;
  }
  const run = spawnSync(clang, [...wasmFlags, ...ld, '-o', out, 'src/core/measures/ksgKernel.c'], {
    stdio: 'inherit',
  });
  if (run.error || run.status !== 0) {
    throw new Error(
      `building ksgKernel.wasm: ${clang} failed on src/core/measures/ksgKernel.c ` +
        `(${run.error?.message ?? `exit ${run.status}`})`,
    );
  }
  return true;
}

const firstLine = (text) =>
  (text ?? '')
    .split('\n')
    .map((l) => l.trim())
    .find(Boolean) ?? '';
