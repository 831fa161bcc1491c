// The model formats the CLI's --help names are the registry's.
import assert from 'node:assert/strict';
import test from 'node:test';
import { modelFormats } from '../../src/core/capture/registry';
import { MODEL_FORMATS_HELP } from '../../src/cli/flags';

void test("--help names every extension and folder marker of the registry's formats", () => {
  const words = new Set(MODEL_FORMATS_HELP.split(/[\s,;()]+/));
  for (const f of modelFormats) {
    for (const name of [...f.extensions, ...(f.folderMarker === undefined ? [] : [f.folderMarker])])
      assert.ok(
        words.has(name),
        `${f.id}: ${name} is missing from MODEL_FORMATS_HELP (src/cli/flags.ts)`,
      );
  }
});
