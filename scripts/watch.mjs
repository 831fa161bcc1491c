// `npm run watch`: the bundles of `npm run build` (scripts/build.mjs) into dist/, rebuilt by
// esbuild on every change to their sources; ksgKernel.wasm and ksgNative.node are built once at
// the start and again when src/core/measures/ksgKernel.c changes (each skipped, with one
// warning, without its compiler).
// Type errors are not reported here: run `npm run check` (or let the editor show them).
// Each rebuild prints `[watch] build started` and `[watch] build finished, N errors`, the
// lines the background problem matcher of the "watch" task in .vscode/tasks.json waits for.
import { existsSync, watch } from 'node:fs';
import * as esbuild from 'esbuild';
import {
  buildKsgNative,
  buildKsgWasm,
  nodeOptions,
  productNodeEntries,
  webviewOptions,
} from './bundles.mjs';

const outdir = 'dist';

/** Logs the start and end of each rebuild of the bundles named `what`. */
const announce = (what) => ({
  name: 'announce',
  setup(build) {
    build.onStart(() => console.log(`[watch] build started (${what})`));
    build.onEnd((result) =>
      console.log(`[watch] build finished (${what}), ${result.errors.length} errors`),
    );
  },
});

const contexts = [
  await esbuild.context(
    nodeOptions(productNodeEntries(), outdir, { plugins: [announce('node bundles')] }),
  ),
];
if (existsSync('webview-ui/main.ts')) {
  contexts.push(
    await esbuild.context({ ...webviewOptions(outdir), plugins: [announce('webview')] }),
  );
}

const buildKernel = () => {
  try {
    buildKsgWasm(outdir);
    buildKsgNative(outdir);
  } catch (err) {
    // A compile error in the C source: reported, and the watch goes on.
    console.error(`[watch] ${err instanceof Error ? err.message : err}`);
  }
};
buildKernel();
let kernelTimer = null;
// The folder, not the file: editors that save by renaming would end a watch on the file.
const kernelWatcher = watch('src/core/measures', (_event, file) => {
  if (file !== 'ksgKernel.c') return;
  clearTimeout(kernelTimer);
  kernelTimer = setTimeout(buildKernel, 100);
});

await Promise.all(contexts.map((c) => c.watch()));
console.log('[watch] watching for changes (Ctrl+C stops)');

const stop = async () => {
  kernelWatcher.close();
  await Promise.all(contexts.map((c) => c.dispose()));
  process.exit(0);
};
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
