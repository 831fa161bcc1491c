// `npm run package [-- --target linux-x64]`: builds the installable .vsix with @vscode/vsce.
//
// The product is bundled by esbuild (npm run build -> dist/). What the bundles still load from
// node_modules at run time (the esbuild externals: TF.js with its wasm backend, onnxruntime-node,
// h5wasm) is found by walking the require graph from dist/*.js: every `require('x')`,
// `require.resolve('x')`, `import('x')` and static `import ... from 'x'` is resolved the way Node
// would, file by file. Only the files reached ship, plus the binary assets of the packages
// reached (.wasm, .node, shared libraries, wasm worker scripts), restricted to the target
// platform (onnxruntime-node carries binaries for six platforms; only the target's ship, so the
// package is platform-specific: `vsce --target`). Requires that cannot be resolved are an error,
// unless they sit inside a vendored package (dead or guarded code). Optional dependencies
// (tfjs-node) are never followed nor shipped: the code falls back to the wasm backend.
//
// vsce runs with --no-dependencies in a staging folder (out/vsix-XXXXXX/) holding package.json,
// README.md, LICENSE, .vscodeignore (the allowlist), dist/, media/ and docs/. Because vsce never
// packages a top-level node_modules in that mode, the runtime modules are staged in
// dist/node_modules/, which Node's resolution from dist/*.js finds first. vsce refuses a package
// without a LICENSE file or a repository field in package.json.
import { spawnSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  copyFileSync,
  mkdtempSync,
} from 'node:fs';
import { createRequire, isBuiltin } from 'node:module';
import * as path from 'node:path';
import { parseArgs } from 'node:util';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const { values } = parseArgs({
  options: { target: { type: 'string', default: `${process.platform}-${process.arch}` } },
});
const target = values.target;
const [targetPlatform, targetArch] = target.split('-');
const manifest = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
const optional = new Set(Object.keys(manifest.optionalDependencies ?? {}));
/** A staging folder of its own, so that two package runs at once cannot mix their files. */
mkdirSync(path.join(root, 'out'), { recursive: true });
const stage = mkdtempSync(path.join(root, 'out', 'vsix-'));
const vsix = path.join(root, `${manifest.name}-${manifest.version}.vsix`);

/**
 * Files of dist/ that ship: the bundles (the CLI too: MemLens: Analyze on Slurm runs
 * `memlens slurm` from it), not their source maps, not the benchmark.
 */
const notShipped = new Set(['bench.js']);
// The native MI kernel (dist/ksgNative.node) is built for this machine: it ships only in a
// package for this platform; elsewhere the extension runs the WebAssembly kernel.
const hostTarget = `${process.platform}-${process.arch}`;
if (target !== hostTarget) notShipped.add('ksgNative.node');
const distFiles = readdirSync(path.join(root, 'dist')).filter(
  (f) => !f.endsWith('.map') && !notShipped.has(f) && statSync(path.join(root, 'dist', f)).isFile(),
);
console.log(
  `package: native MI kernel ${
    distFiles.includes('ksgNative.node')
      ? `dist/ksgNative.node (${hostTarget})`
      : `not shipped (${target === hostTarget ? 'not built' : `built for ${hostTarget}`}): the WebAssembly kernel runs`
  }`,
);
if (!distFiles.includes(path.basename(manifest.main))) {
  throw new Error(`package: ${manifest.main} is missing; run npm run build first`);
}

const specifierPatterns = [
  /\brequire(?:\.resolve)?\(\s*(['"])([^'"`$\n]+)\1\s*\)/g,
  /\bimport\(\s*(['"])([^'"`$\n]+)\1\s*\)/g,
  /\b(?:import|export)\s[^;'"]*?\bfrom\s*(['"])([^'"\n]+)\1/g,
  /^\s*import\s*(['"])([^'"\n]+)\1/gm,
];
const binaryAsset = /(\.wasm|\.node|\.so(\.\d+)*|\.dylib|\.dll|\.worker\.js)$/;
/**
 * Folders of a package whose binary assets are never read at run time. tfjs-backend-wasm carries
 * its .wasm binaries twice: in dist/, where src/core/capture/tfjs/tfjsRuntime.ts points
 * setWasmPaths, and in wasm-out/ (Emscripten's output, whose worker scripts dist/ inlines).
 * A file there that the require graph does reach still ships.
 */
const unusedAssetFolders = new Map([['@tensorflow/tfjs-backend-wasm', ['wasm-out']]]);
const platforms = new Set(['darwin', 'linux', 'win32']);
const arches = new Set(['x64', 'arm64', 'ia32', 'arm']);

/** The folder holding the package.json of the package that owns `file`. */
function packageRoot(file) {
  let dir = path.dirname(file);
  while (dir !== root && dir !== path.dirname(dir)) {
    const pj = path.join(dir, 'package.json');
    if (existsSync(pj) && JSON.parse(readFileSync(pj, 'utf8')).name) return dir;
    dir = path.dirname(dir);
  }
  return null;
}

/** The package name of a bare specifier (`@scope/name/sub` -> `@scope/name`). */
const packageName = (spec) =>
  spec
    .split('/')
    .slice(0, spec.startsWith('@') ? 2 : 1)
    .join('/');

/** Resolves `spec` from `fromFile` as Node does, falling back to an `import` export condition. */
function resolveFrom(fromFile, spec) {
  const req = createRequire(fromFile);
  try {
    return req.resolve(spec);
  } catch {
    if (spec.startsWith('.') || spec.startsWith('/')) return null;
    const name = packageName(spec);
    let pj;
    try {
      pj = req.resolve(`${name}/package.json`);
    } catch {
      const hit = (req.resolve.paths(name) ?? [])
        .map((d) => path.join(d, name, 'package.json'))
        .find((p) => existsSync(p));
      if (!hit) return null;
      pj = hit;
    }
    const pkg = JSON.parse(readFileSync(pj, 'utf8'));
    const sub = `.${spec.slice(name.length)}`;
    let entry = pkg.exports?.[sub === '.' ? '.' : sub] ?? (sub === '.' ? pkg.exports : undefined);
    while (entry && typeof entry === 'object') {
      entry = entry.node ?? entry.require ?? entry.import ?? entry.default;
    }
    const file = typeof entry === 'string' ? path.join(path.dirname(pj), entry) : null;
    return file && existsSync(file) ? file : null;
  }
}

/** True when a binary asset's path names no other platform or architecture than the target. */
function fitsTarget(rel) {
  return rel
    .split(path.sep)
    .every(
      (seg) =>
        !(platforms.has(seg) && seg !== targetPlatform) && !(arches.has(seg) && seg !== targetArch),
    );
}

function filesUnder(dir) {
  return readdirSync(dir, { recursive: true })
    .map((f) => path.join(dir, f))
    .filter((f) => statSync(f).isFile());
}

// Walk the require graph from the shipped bundles.
const shipped = new Set();
const packages = new Set();
const skippedOptional = new Set();
const unresolvedVendored = new Set();
const queue = distFiles.map((f) => path.join(root, 'dist', f));
while (queue.length > 0) {
  const file = queue.pop();
  if (shipped.has(file)) continue;
  shipped.add(file);
  if (!/\.(c|m)?js$/.test(file)) continue;
  const inDist = path.dirname(file) === path.join(root, 'dist');
  const text = readFileSync(file, 'utf8');
  for (const pattern of specifierPatterns) {
    for (const m of text.matchAll(pattern)) {
      const spec = m[2];
      if (spec === 'vscode' || isBuiltin(spec)) continue;
      // Optional dependencies never ship, present or not: tfjs-node carries a libtensorflow
      // built for this machine (hundreds of MB); the code falls back to the wasm backend.
      if (optional.has(packageName(spec))) {
        skippedOptional.add(packageName(spec));
        continue;
      }
      const resolved = resolveFrom(file, spec);
      if (resolved) {
        if (!isBuiltin(resolved)) queue.push(resolved);
        continue;
      }
      if (inDist)
        throw new Error(
          `package: ${path.basename(file)} requires '${spec}', which does not resolve`,
        );
      else unresolvedVendored.add(`${spec} (in ${path.relative(root, file)})`);
    }
  }
  const pkg = inDist ? null : packageRoot(file);
  if (pkg && !packages.has(pkg)) {
    packages.add(pkg);
    const unused =
      unusedAssetFolders.get(path.relative(path.join(root, 'node_modules'), pkg)) ?? [];
    for (const f of filesUnder(pkg)) {
      const rel = path.relative(pkg, f);
      if (rel.split(path.sep).includes('node_modules')) continue;
      // Every package.json ships, nested ones too: Node reads the nearest one for a file's module
      // type (onnxruntime-common's dist/cjs/package.json makes its CommonJS build CommonJS in a
      // "type": "module" package).
      if (path.basename(f) === 'package.json') {
        shipped.add(f);
      } else if (/^(licen[cs]e|notice)/i.test(path.basename(f)) && !rel.includes(path.sep)) {
        shipped.add(f);
      } else if (
        binaryAsset.test(f) &&
        fitsTarget(rel) &&
        !unused.some((dir) => rel.startsWith(dir + path.sep))
      ) {
        queue.push(f);
      }
    }
  }
}

// Stage and package.
mkdirSync(path.join(stage, 'dist'), { recursive: true });
for (const f of ['package.json', '.vscodeignore', 'LICENSE']) {
  if (existsSync(path.join(root, f))) copyFileSync(path.join(root, f), path.join(stage, f));
}
// The extension's page is the user guide, README.vsix.md, staged as README.md; the repository's
// README.md is for developers (commands, folders that do not ship). test/unit/userPage.test.ts
// checks that its links reach only files that ship.
copyFileSync(path.join(root, 'README.vsix.md'), path.join(stage, 'README.md'));
// The user page links to docs/ relatively; shipping docs/ keeps those links working in VS Code.
for (const dir of ['media', 'docs']) {
  if (existsSync(path.join(root, dir))) {
    cpSync(path.join(root, dir), path.join(stage, dir), { recursive: true });
  }
}
let moduleBytes = 0;
for (const f of shipped) {
  const rel = path.relative(root, f);
  const dest = rel.startsWith(`node_modules${path.sep}`)
    ? path.join(stage, 'dist', rel)
    : path.join(stage, rel);
  mkdirSync(path.dirname(dest), { recursive: true });
  copyFileSync(f, dest);
  if (rel.startsWith('node_modules')) moduleBytes += statSync(f).size;
}

const names = [...packages].map((p) => path.relative(path.join(root, 'node_modules'), p)).sort();
console.log(
  `package: target ${target}; runtime modules (${(moduleBytes / 1e6).toFixed(1)} MB): ${names.join(', ')}`,
);
if (skippedOptional.size > 0) {
  console.log(`package: optional, not shipped: ${[...skippedOptional].join(', ')}`);
}
if (unresolvedVendored.size > 0) {
  console.log(
    `package: unresolved requires inside vendored modules (guarded or dead code): ${[...unresolvedVendored].join('; ')}`,
  );
}

rmSync(vsix, { force: true });
const vsceArgs = [
  'package',
  '--no-dependencies',
  '--no-rewrite-relative-links',
  '--target',
  target,
  '--out',
  vsix,
];
const vsce = spawnSync(
  process.execPath,
  [path.join(root, 'node_modules/@vscode/vsce/vsce'), ...vsceArgs],
  {
    cwd: stage,
    stdio: ['ignore', 'inherit', 'inherit'],
  },
);
rmSync(stage, { recursive: true, force: true });
if (vsce.status !== 0) process.exit(vsce.status ?? 1);
console.log(`package: ${path.basename(vsix)} is ${(statSync(vsix).size / 1e6).toFixed(1)} MB`);
