// Production build: the CLI, the extension, workers and the webview into dist/.
// `npm run watch` (scripts/watch.mjs) rebuilds the same bundles on every change.
import { existsSync } from 'node:fs';
import {
  buildKsgNative,
  buildKsgWasm,
  buildNode,
  buildWebview,
  productNodeEntries,
} from './bundles.mjs';

await buildNode(productNodeEntries(), 'dist');
buildKsgWasm('dist');
buildKsgNative('dist');
if (existsSync('webview-ui/main.ts')) await buildWebview('dist');
