// Production build: the CLI, the extension, workers and the webview into dist/.
import { existsSync } from 'node:fs';
import { auxNodeEntries, buildKsgWasm, buildNode, buildWebview } from './bundles.mjs';

const optional = (name, file) => (existsSync(file) ? { [name]: file } : {});

await buildNode(
  {
    cli: 'src/cli/main.ts',
    ...optional('extension', 'src/extension/extension.ts'),
    ...optional('bench', 'bench/bench.ts'),
    ...auxNodeEntries,
  },
  'dist',
);
buildKsgWasm('dist');
if (existsSync('webview-ui/main.ts')) await buildWebview('dist');
