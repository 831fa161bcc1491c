// `npm run sync:settings`: writes package.json's `contributes.configuration` from the settings
// table (src/extension/logic/settingsSchema.ts), leaving the rest of package.json byte for byte
// as it is. Run it after changing the table; test/unit/settingsSchema.test.ts fails until the
// committed package.json is what this writes.
import { build } from 'esbuild';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const manifestPath = path.join(root, 'package.json');
const dir = mkdtempSync(path.join(tmpdir(), 'memlens-sync-settings-'));
try {
  // The table is TypeScript: bundle the generator's module to load it here.
  const outfile = path.join(dir, 'settingsManifest.cjs');
  await build({
    entryPoints: [path.join(root, 'src/extension/logic/settingsManifest.ts')],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    outfile,
    logLevel: 'warning',
  });
  const { withConfiguration } = createRequire(import.meta.url)(outfile);
  // Read just before writing, so edits others made to package.json meanwhile are kept.
  const before = readFileSync(manifestPath, 'utf8');
  const after = withConfiguration(before);
  if (after === before) {
    console.log('sync:settings: package.json contributes.configuration is up to date');
  } else {
    writeFileSync(manifestPath, after);
    console.log(
      'sync:settings: wrote package.json contributes.configuration from the settings table',
    );
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
