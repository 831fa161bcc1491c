// The esbuild entry points, shared by the product build and the unit-test build.
// Every Node bundle lands flat in one folder, so a bundle finds its sibling workers
// (miWorker.js) and the webview bundle (webview.js) through __dirname.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
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

/** The native kernel's sources: the N-API binding and the kernel it includes. */
const nativeSources = ['src/core/measures/native/ksgNative.c', 'src/core/measures/ksgKernel.c'];

/** npm's own node-gyp (npm sets npm_config_node_gyp in scripts), else the one beside npm. */
function findNodeGyp() {
  const candidates = [
    process.env.npm_config_node_gyp,
    path.join(
      path.dirname(process.execPath),
      '..',
      'lib',
      'node_modules',
      'npm',
      'node_modules',
      'node-gyp',
      'bin',
      'node-gyp.js',
    ),
  ];
  return candidates.find((f) => f && existsSync(f)) ?? null;
}

/** The folder holding include/node/node_api.h for the running Node ($npm_config_nodedir first). */
function findNodeDir() {
  const candidates = [
    process.env.npm_config_nodedir,
    path.resolve(path.dirname(process.execPath), '..'),
  ];
  return (
    candidates.find((d) => d && existsSync(path.join(d, 'include', 'node', 'node_api.h'))) ?? null
  );
}

/** Why the native toolchain is missing, or null when node-gyp can run (Python, make, a C compiler). */
function nativeToolchainMissing(nodeGyp, nodeDir) {
  if (nodeGyp === null) return 'node-gyp not found (it comes with npm)';
  if (nodeDir === null) return "Node's headers (include/node/node_api.h) not found";
  if (process.platform === 'win32') return null; // node-gyp finds Visual Studio itself
  const tools = [
    [process.env.PYTHON ?? 'python3', '--version'],
    ['make', '--version'],
    [process.env.CC ?? 'cc', '--version'],
    [process.env.CXX ?? 'c++', '--version'],
  ];
  for (const [cmd, arg] of tools) {
    const r = spawnSync(cmd, [arg], { encoding: 'utf8' });
    if (r.error || r.status !== 0) return `${cmd} not found`;
  }
  return null;
}

/**
 * Builds the native KSG-1 kernel (src/core/measures/native/ksgNative.c, which includes
 * ksgKernel.c) as a Node addon with npm's node-gyp against the running Node's own headers (no
 * download), and copies it to outdir/ksgNative.node. Builds are cached in out/ksg-native/ by
 * the sources' hash and the platform, so test runs reuse them. Without node-gyp, Node's headers,
 * Python, make or a C compiler it prints one warning line, removes a stale
 * outdir/ksgNative.node and skips: the MI workers then run the WebAssembly kernel. An error in
 * the C source fails the build. Returns whether the addon was built.
 */
export function buildKsgNative(outdir) {
  const out = path.join(outdir, 'ksgNative.node');
  const nodeGyp = findNodeGyp();
  const nodeDir = findNodeDir();
  const missing = nativeToolchainMissing(nodeGyp, nodeDir);
  if (missing !== null) {
    rmSync(out, { force: true });
    console.warn(
      `warning: ksgNative.node not built (${missing}): the MI workers will run the WebAssembly ` +
        'kernel, same values, slower',
    );
    return false;
  }
  const hash = createHash('sha256');
  for (const f of nativeSources) hash.update(readFileSync(f));
  hash.update(`${process.platform}-${process.arch} ${process.versions.modules}`);
  const cacheRoot = path.resolve('out', 'ksg-native');
  const cached = path.join(cacheRoot, hash.digest('hex').slice(0, 16));
  const built = path.join(cached, 'build', 'Release', 'ksgNative.node');
  if (!existsSync(built)) {
    mkdirSync(cacheRoot, { recursive: true });
    const work = mkdtempSync(path.join(cacheRoot, 'tmp-'));
    const flags = ['-O3', '-ffp-contract=off', '-Wall', '-Wextra'];
    const gyp = {
      targets: [
        {
          target_name: 'ksgNative',
          sources: [path.relative(work, nativeSources[0])],
          cflags: flags,
          xcode_settings: { OTHER_CFLAGS: flags },
        },
      ],
    };
    writeFileSync(path.join(work, 'binding.gyp'), JSON.stringify(gyp, null, 2));
    const run = spawnSync(
      process.execPath,
      [nodeGyp, 'rebuild', `--nodedir=${nodeDir}`, '--loglevel=error'],
      { cwd: work, encoding: 'utf8' },
    );
    if (run.error || run.status !== 0) {
      process.stderr.write(`${run.stdout ?? ''}${run.stderr ?? ''}`);
      rmSync(work, { recursive: true, force: true });
      throw new Error(
        `building ksgNative.node: node-gyp failed on ${nativeSources[0]} ` +
          `(${run.error?.message ?? `exit ${run.status}`})`,
      );
    }
    // Another build of the same sources may have finished first: either copy will do.
    try {
      renameSync(work, cached);
    } catch {
      rmSync(work, { recursive: true, force: true });
    }
  }
  // A new file renamed over the old one: a process that has the old one loaded keeps its copy.
  mkdirSync(outdir, { recursive: true });
  const next = `${out}.${process.pid}`;
  copyFileSync(built, next);
  renameSync(next, out);
  return true;
}

const firstLine = (text) =>
  (text ?? '')
    .split('\n')
    .map((l) => l.trim())
    .find(Boolean) ?? '';
